// What the Python shim hands over, checked before anything runs: untrusted strings from the command
// line become a typed request, every invalid field named.

import { existsSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { SealedError } from '../errors.js';
import { SHA256_HEX } from '../core/digest.js';
import { findExecutable } from '../util/exec.js';

export type ConfigSettings = Record<string, string | string[]>;

export interface BackendBuildRequest {
  /** The project folder the frontend runs the hooks in (an unpacked sdist or a checkout). */
  sourceDir: string;
  /** Where the frontend wants the wheel (pip's temporary folder, build's output folder). */
  wheelDir: string;
  /** A second place for the seal (`sealed.seal-dir` / SEALED_SEAL_DIR), or null. */
  sealDir: string | null;
  backend: string;
  /** As declared in [tool.sealed] backend-path: relative to the project folder. */
  backendPath: string[] | null;
  /** What the real backend receives: the frontend's settings without Sealed's `sealed.*` keys. */
  configSettings: ConfigSettings | null;
  /** The interpreter the frontend builds with (the shim's sys.executable). */
  python: string;
  /** The .dist-info the frontend got from prepare_metadata_for_build_wheel, passed on to build_wheel. */
  metadataDirectory: string | null;
  /** `sealed.sdist-sha256`: the sdist this tree was unpacked from, as the caller claims it. */
  claimedSdistSha256: string | null;
}

export interface RawBackendBuildArgs {
  source?: string;
  wheelDir?: string;
  sealDir?: string;
  backend?: string;
  backendPath?: string[];
  configSettings?: string;
  python?: string;
  metadataDir?: string;
  sdistSha256?: string;
}

const BACKEND_SPEC = /^[A-Za-z_][\w.]*(:[A-Za-z_][\w.]*)?$/;

/** Checks every field and reports all problems at once. */
export function parseBackendBuildArgs(raw: RawBackendBuildArgs, env: NodeJS.ProcessEnv = process.env): BackendBuildRequest {
  const problems: string[] = [];
  const absolute = (value: string | undefined, flag: string, required: boolean): string | null => {
    if (value === undefined || value === '') {
      if (required) problems.push(`${flag} is required`);
      return null;
    }
    if (!isAbsolute(value)) problems.push(`${flag} must be an absolute path (got ${JSON.stringify(value)})`);
    return value;
  };

  const sourceDir = absolute(raw.source, '--source', true);
  if (sourceDir && isAbsolute(sourceDir) && !isDirectory(sourceDir)) problems.push(`--source ${sourceDir} is not a folder`);
  const wheelDir = absolute(raw.wheelDir, '--wheel-dir', true);
  const sealDir = absolute(raw.sealDir, '--seal-dir', false);
  const metadataDirectory = absolute(raw.metadataDir, '--metadata-dir', false);
  if (metadataDirectory && isAbsolute(metadataDirectory) && !isDirectory(metadataDirectory)) {
    problems.push(`--metadata-dir ${metadataDirectory} is not a folder`);
  }

  const backend = raw.backend ?? '';
  if (!BACKEND_SPEC.test(backend)) problems.push(`--backend must look like "pkg.module" or "pkg.module:object" (got ${JSON.stringify(backend)})`);
  const backendPath = raw.backendPath && raw.backendPath.length > 0 ? raw.backendPath : null;
  for (const p of backendPath ?? []) {
    if (isAbsolute(p) || p.split(/[\\/]/).includes('..')) problems.push(`--backend-path ${JSON.stringify(p)} must be relative and inside the project`);
  }

  let python = raw.python ?? '';
  if (!python) problems.push('--python is required');
  else {
    const found = findExecutable(python, env);
    if (!found) problems.push(`--python ${python} is not an executable`);
    else python = found;
  }

  let configSettings: ConfigSettings | null = null;
  if (raw.configSettings !== undefined) {
    try {
      configSettings = parseConfigSettings(JSON.parse(raw.configSettings) as unknown);
    } catch (e) {
      problems.push(`--config-settings: ${(e as Error).message}`);
    }
  }

  let claimed: string | null = null;
  if (raw.sdistSha256 !== undefined) {
    if (SHA256_HEX.test(raw.sdistSha256.toLowerCase())) claimed = raw.sdistSha256.toLowerCase();
    else problems.push(`--sdist-sha256 must be 64 hex characters (got ${JSON.stringify(raw.sdistSha256)})`);
  }

  if (problems.length > 0) {
    throw new SealedError('USAGE', `backend-build: ${problems.join('; ')}.`, {
      hint: 'backend-build is called by the sealed-backend PEP 517 shim; see docs/shim.md.',
    });
  }
  return {
    sourceDir: sourceDir!,
    wheelDir: wheelDir!,
    sealDir,
    backend,
    backendPath,
    configSettings,
    python,
    metadataDirectory,
    claimedSdistSha256: claimed,
  };
}

/** PEP 517 config settings as frontends pass them: null, or string keys with a string or a list of strings. */
export function parseConfigSettings(value: unknown): ConfigSettings | null {
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error('must be a JSON object or null');
  const out: ConfigSettings = {};
  const bad: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === 'string') out[k] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[k] = v as string[];
    else bad.push(k);
  }
  if (bad.length > 0) throw new Error(`value(s) of ${bad.map((k) => JSON.stringify(k)).join(', ')} must be a string or a list of strings`);
  return out;
}

function isDirectory(p: string): boolean {
  try {
    return existsSync(p) && statSync(p).isDirectory();
  } catch {
    return false;
  }
}
