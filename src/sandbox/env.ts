// The environment a sandboxed hook starts with: cleared, then only the build-affecting variables the
// environment record lists, without Sealed's own (SEALED_*, which name its home), pip's (no pip runs
// inside), and anything that looks like a credential. HOME and TMPDIR point into the private /tmp.

import { isBuildAffecting } from '../env/measure.js';

const SECRET_WORDS = /TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|KEY|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE/i;
// Needed to run anything at all, and harmless: the search path and the locale.
const BASE_VARS = new Set(['PATH', 'LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'LC_MESSAGES', 'TZ', 'TERM', 'NO_COLOR', 'FORCE_COLOR']);
const NEVER_PREFIXES = ['SEALED_', 'PIP_', 'AWS_', 'GITHUB_', 'NPM_', 'TWINE_', 'UV_'];

export interface SandboxEnvOptions {
  /** Keep PYTHONPATH as given: the shim's frontend reaches its build environment through it. */
  keepPythonPath: boolean;
}

export function sandboxEnvironment(env: NodeJS.ProcessEnv, o: SandboxEnvOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || SECRET_WORDS.test(name) || NEVER_PREFIXES.some((p) => name.startsWith(p))) continue;
    if (name.startsWith('LC_') || BASE_VARS.has(name) || isBuildAffecting(name)) out[name] = value;
  }
  out.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  out.HOME = '/tmp';
  out.TMPDIR = '/tmp';
  out.PYTHONNOUSERSITE = '1';
  if (!o.keepPythonPath) out.PYTHONPATH = '';
  return out;
}
