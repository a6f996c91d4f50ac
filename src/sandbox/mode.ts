// Which sandbox a build asks for: --sandbox, then SEALED_SANDBOX, then bwrap. `none` is taken only when
// named; nothing falls back to it.

import { SealedError } from '../errors.js';

export type SandboxKind = 'bwrap' | 'uid' | 'none';

export const SANDBOX_KINDS: readonly SandboxKind[] = ['bwrap', 'uid', 'none'];

/** What the build record says about the sandbox its hooks ran in. */
export interface SandboxRecord {
  kind: SandboxKind;
  /** bwrap's version line ("bubblewrap 0.8.0"), null for the other kinds. */
  version: string | null;
  /** Whether the hooks had no network (bwrap's own network namespace). */
  network_cut: boolean;
}

export function isSandboxKind(value: unknown): value is SandboxKind {
  return typeof value === 'string' && (SANDBOX_KINDS as readonly string[]).includes(value);
}

export function resolveSandboxMode(flag: string | undefined, env: NodeJS.ProcessEnv): SandboxKind {
  const [value, where] = flag !== undefined ? [flag, '--sandbox'] : env.SEALED_SANDBOX ? [env.SEALED_SANDBOX, 'SEALED_SANDBOX'] : ['bwrap', 'default'];
  const v = value.trim().toLowerCase();
  if (!isSandboxKind(v)) {
    throw new SealedError('USAGE', `${where} must be one of ${SANDBOX_KINDS.join(', ')}, not ${JSON.stringify(value)}.`);
  }
  return v;
}
