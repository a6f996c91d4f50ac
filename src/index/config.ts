// Which index Sealed uses (SPEC section 4): --index-url, SEALED_INDEX_URL, PIP_INDEX_URL, pip's
// configured index-url, https://pypi.org/simple/ - the first that is set. pip's configuration is read
// as pip 23 reads it:
//   files, later ones winning: global (each $XDG_CONFIG_DIRS/pip/pip.conf, then /etc/pip.conf), user
//   (~/.pip/pip.conf, then $XDG_CONFIG_HOME/pip/pip.conf) - skipped when PIP_CONFIG_FILE names an
//   existing file - site ($VIRTUAL_ENV/pip.conf), then PIP_CONFIG_FILE itself; PIP_CONFIG_FILE=/dev/null
//   loads no file at all. Within the merged files [install] beats [global]; PIP_<NAME> beats both.
//   Empty values count as unset.
// Extra indexes are never merged (dependency confusion): when pip has any, Sealed says so once.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SealedError } from '../errors.js';
import { IniError, parseIni } from './ini.js';
import { redactUrl } from '../http/credentials.js';

export const DEFAULT_INDEX_URL = 'https://pypi.org/simple/';

export interface IndexConfig {
  url: string;
  source: 'flag' | 'SEALED_INDEX_URL' | 'PIP_INDEX_URL' | 'pip.conf' | 'default';
  ignoredExtraIndexes: string[];
}

export interface PipConfigPlaces {
  platform: NodeJS.Platform;
  /** The Unix system folder pip also reads (`/etc`). */
  etcDir: string;
}

const DEFAULT_PLACES: PipConfigPlaces = { platform: process.platform, etcDir: '/etc' };

/** pip's configuration files in load order (later ones override earlier ones), with their kind. */
export function pipConfigFiles(env: NodeJS.ProcessEnv, places: PipConfigPlaces = DEFAULT_PLACES): { kind: string; path: string }[] {
  const envFile = env.PIP_CONFIG_FILE;
  const devnull = places.platform === 'win32' ? 'nul' : '/dev/null';
  if (envFile !== undefined && (envFile === devnull || envFile.toLowerCase() === devnull)) return [];
  const home = env.HOME && env.HOME !== '' ? env.HOME : places.platform === 'win32' ? (env.USERPROFILE ?? homedir()) : homedir();
  const files: { kind: string; path: string }[] = [];
  if (places.platform === 'win32') {
    const programData = env.PROGRAMDATA ?? env.ALLUSERSPROFILE ?? 'C:\\ProgramData';
    files.push({ kind: 'global', path: join(programData, 'pip', 'pip.ini') });
  } else if (places.platform === 'darwin') {
    files.push({ kind: 'global', path: '/Library/Application Support/pip/pip.conf' });
  } else {
    const xdgDirs = env.XDG_CONFIG_DIRS && env.XDG_CONFIG_DIRS.trim() !== '' ? env.XDG_CONFIG_DIRS : '/etc/xdg';
    for (const dir of xdgDirs.split(':')) if (dir !== '') files.push({ kind: 'global', path: join(dir, 'pip', 'pip.conf') });
    files.push({ kind: 'global', path: join(places.etcDir, 'pip.conf') });
  }
  const envFileExists = envFile !== undefined && envFile !== '' && existsSync(envFile);
  if (!envFileExists) {
    const base = places.platform === 'win32' ? 'pip.ini' : 'pip.conf';
    files.push({ kind: 'user', path: join(home, places.platform === 'win32' ? 'pip' : '.pip', base) });
    if (places.platform === 'win32') {
      files.push({ kind: 'user', path: join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'pip', 'pip.ini') });
    } else if (places.platform === 'darwin') {
      const appSupport = join(home, 'Library', 'Application Support', 'pip');
      files.push({ kind: 'user', path: join(isDir(appSupport) ? appSupport : join(home, '.config', 'pip'), 'pip.conf') });
    } else {
      const xdgHome = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.trim() !== '' ? env.XDG_CONFIG_HOME : join(home, '.config');
      files.push({ kind: 'user', path: join(xdgHome, 'pip', 'pip.conf') });
    }
  }
  // The site file belongs to the environment pip runs in; the active virtual environment is the best
  // stand-in Sealed has before it knows the target interpreter.
  if (env.VIRTUAL_ENV) files.push({ kind: 'site', path: join(env.VIRTUAL_ENV, places.platform === 'win32' ? 'pip.ini' : 'pip.conf') });
  if (envFile !== undefined && envFile !== '') files.push({ kind: 'env', path: envFile });
  return files;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export interface PipSetting {
  value: string;
  /** A file path, or PIP_<NAME> for the environment. */
  from: string;
}

/** The merged pip configuration: `section.key` -> value, files applied in order. */
export function loadPipConfig(env: NodeJS.ProcessEnv, places: PipConfigPlaces = DEFAULT_PLACES): Map<string, PipSetting> {
  const merged = new Map<string, PipSetting>();
  for (const { path } of pipConfigFiles(env, places)) {
    let text: string;
    try {
      if (!statSync(path).isFile()) continue;
      text = readFileSync(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw new SealedError('IO', `Cannot read pip's configuration file ${path}: ${(e as Error).message}.`, { where: path, errno: code });
    }
    let sections;
    try {
      sections = parseIni(text);
    } catch (e) {
      if (!(e instanceof IniError)) throw e;
      throw new SealedError('MALFORMED_INPUT', `pip's configuration file ${path} cannot be read: ${e.message}.`, {
        where: `${path}:${e.line}`,
        hint: 'Fix the file (pip itself refuses it too), or set PIP_CONFIG_FILE=/dev/null to ignore pip configuration.',
      });
    }
    for (const [section, opts] of sections) {
      for (const [key, value] of opts) merged.set(`${section}.${normalizeKey(key)}`, { value, from: path });
    }
  }
  return merged;
}

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/_/g, '-').replace(/^--/, '');
}

/** pip's effective value of an install option: PIP_<NAME>, then [install], then [global]; empty = unset. */
export function pipSetting(env: NodeJS.ProcessEnv, config: Map<string, PipSetting>, key: string): PipSetting | null {
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('PIP_') && normalizeKey(name.slice(4)) === key && value !== undefined && value.trim() !== '') {
      return { value: value.trim(), from: name };
    }
  }
  for (const section of ['install', 'global']) {
    const s = config.get(`${section}.${key}`);
    if (s && s.value !== '') return s;
  }
  return null;
}

/** An index location as the user wrote it: an http(s) or file URL, or a local folder path. */
export function normalizeIndexLocation(value: string, from: string, platform: NodeJS.Platform = process.platform): string {
  const v = value.trim();
  const winPath = platform === 'win32' && /^[A-Za-z]:[\\/]/.test(v);
  if (!winPath && /^[A-Za-z][A-Za-z0-9+.-]*:/.test(v)) {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      throw new SealedError('USAGE', `The index URL from ${from} is not a valid URL.`, { found: redactUrl(v) });
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:' && u.protocol !== 'file:') {
      throw new SealedError('USAGE', `The index URL from ${from} uses ${u.protocol}; Sealed reads http(s):// and file:// indexes.`, {
        expected: 'http://, https:// or file://',
        found: redactUrl(v),
      });
    }
    return u.href;
  }
  if (isAbsolute(v) || winPath) {
    const href = pathToFileURL(v).href;
    return href.endsWith('/') ? href : `${href}/`;
  }
  throw new SealedError('USAGE', `The index location from ${from} is neither a URL nor an absolute path.`, {
    found: v,
    hint: 'Give an http(s):// or file:// URL, or an absolute folder path.',
  });
}

const toldAboutExtras = new WeakSet<(msg: string) => void>();

function isLocalHost(u: URL): boolean {
  return u.hostname === 'localhost' || u.hostname === '::1' || u.hostname === '[::1]' || /^127\./.test(u.hostname);
}

export function resolveIndexConfigFrom(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  warn: (msg: string) => void,
  places: PipConfigPlaces = DEFAULT_PLACES,
): IndexConfig {
  const config = loadPipConfig(env, places);
  let url: string;
  let source: IndexConfig['source'];
  const pipIndex = pipSetting(env, config, 'index-url');
  if (flag !== undefined && flag.trim() !== '') {
    url = normalizeIndexLocation(flag, '--index-url', places.platform);
    source = 'flag';
  } else if (env.SEALED_INDEX_URL !== undefined && env.SEALED_INDEX_URL.trim() !== '') {
    url = normalizeIndexLocation(env.SEALED_INDEX_URL, 'SEALED_INDEX_URL', places.platform);
    source = 'SEALED_INDEX_URL';
  } else if (pipIndex && pipIndex.from.startsWith('PIP_')) {
    url = normalizeIndexLocation(pipIndex.value, pipIndex.from, places.platform);
    source = 'PIP_INDEX_URL';
  } else if (pipIndex) {
    url = normalizeIndexLocation(pipIndex.value, pipIndex.from, places.platform);
    source = 'pip.conf';
  } else {
    url = DEFAULT_INDEX_URL;
    source = 'default';
  }

  const extra = pipSetting(env, config, 'extra-index-url');
  const ignoredExtraIndexes = extra ? extra.value.split(/\s+/).filter((s) => s !== '').map(redactUrl) : [];
  const findLinks = pipSetting(env, config, 'find-links');
  if ((ignoredExtraIndexes.length > 0 || findLinks) && !toldAboutExtras.has(warn)) {
    toldAboutExtras.add(warn);
    const parts: string[] = [];
    if (ignoredExtraIndexes.length > 0) parts.push(`extra-index-url ${ignoredExtraIndexes.join(' ')} (from ${extra!.from})`);
    if (findLinks) parts.push(`find-links ${findLinks.value.split(/\s+/).map(redactUrl).join(' ')} (from ${findLinks.from})`);
    warn(
      `pip is configured with ${parts.join(' and ')}; Sealed ignores ${parts.length > 1 ? 'them' : 'it'} and uses only ${redactUrl(url)}: ` +
        'merging several package sources lets any of them shadow a project (dependency confusion).',
    );
  }
  const parsed = new URL(url);
  if (parsed.protocol === 'http:' && !isLocalHost(parsed)) {
    warn(`The index ${redactUrl(url)} is plain http: its listed hashes can be changed in transit, and they are what Sealed verifies against.`);
  }
  return { url, source, ignoredExtraIndexes };
}

export function resolveIndexConfig(flag: string | undefined, env: NodeJS.ProcessEnv, warn: (msg: string) => void): IndexConfig {
  return resolveIndexConfigFrom(flag, env, warn);
}
