// Every pip call Sealed makes goes through here: pip's configuration files are not read (they may name
// extra indexes or find-links, which would bypass the one index Sealed verified), and only harmless PIP_*
// variables pass through. The index is always given explicitly.

import { SealedError } from '../errors.js';

const PIP_VARS_KEPT = new Set(['PIP_CERT', 'PIP_CLIENT_CERT', 'PIP_DEFAULT_TIMEOUT', 'PIP_CACHE_DIR', 'PIP_NO_CACHE_DIR', 'PIP_PROGRESS_BAR']);

export function pipEnvironment(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (k.startsWith('PIP_') && !PIP_VARS_KEPT.has(k)) continue;
    if (k === 'PYTHONPATH' || k === 'PYTHONHOME' || k === 'PYTHONUSERBASE') continue;
    env[k] = v;
  }
  env.PIP_CONFIG_FILE = '/dev/null';
  env.PIP_DISABLE_PIP_VERSION_CHECK = '1';
  env.PIP_NO_INPUT = '1';
  env.PYTHONNOUSERSITE = '1';
  return env;
}

/** Arguments that pin pip to one index (or to none, with a local folder). */
export function indexArgs(indexUrl: string): string[] {
  return ['--index-url', indexUrl];
}

export interface PipReportItem {
  metadata: { name: string; version: string };
  download_info?: { url?: string; archive_info?: { hash?: string; hashes?: Record<string, string> }; dir_info?: unknown };
  requested?: boolean;
  is_direct?: boolean;
}

export interface PipReport {
  version: string;
  install: PipReportItem[];
}

export function sha256FromReport(item: PipReportItem): string | null {
  const ai = item.download_info?.archive_info;
  if (!ai) return null;
  if (ai.hashes?.sha256) return ai.hashes.sha256.toLowerCase();
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(ai.hash ?? '');
  return m ? m[1]!.toLowerCase() : null;
}

/** Parses pip's --report output; anything else is pip failing, not Sealed. */
export function parsePipReport(text: string, what: string): PipReport {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    doc = null;
  }
  const install = (doc as { install?: unknown } | null)?.install;
  const ok =
    Array.isArray(install) &&
    install.every((i) => {
      const m = (i as { metadata?: { name?: unknown; version?: unknown } }).metadata;
      return typeof m?.name === 'string' && typeof m.version === 'string';
    });
  if (!ok) throw new SealedError('PIP_FAILED', `pip's report of ${what} is not in the format Sealed reads (pip --report, version 1).`);
  return doc as PipReport;
}
