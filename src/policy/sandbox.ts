// The sandbox a policy requires of a seal's build (`sealed policy set --require-sandbox`): bwrap (its
// hooks had no network and saw neither key nor registry), uid (a dedicated build user: key and registry
// out of reach, the network not), or none (no requirement). A seal made before the build record said
// where its hooks ran meets only `none`. Pure.

import type { SandboxRecord } from '../sandbox/mode.js';

export type SandboxRequirement = 'bwrap' | 'uid' | 'none';

const STRENGTH: Record<SandboxRecord['kind'], number> = { none: 0, uid: 1, bwrap: 2 };

/** Why the build record does not meet the requirement, or null when it does. */
export function sandboxShortfall(required: SandboxRequirement | null | undefined, record: SandboxRecord | null | undefined): string | null {
  if (!required || required === 'none') return null;
  if (!record) return `the seal does not say where its build ran (made before the build sandbox); the policy requires ${required}`;
  const cut = required === 'bwrap' ? record.network_cut : true;
  if (STRENGTH[record.kind] >= STRENGTH[required] && cut) return null;
  return `built with sandbox ${describeSandbox(record)}; the policy requires ${required}`;
}

/** "bwrap (bubblewrap 0.8.0), network cut" and the like, for show and verify-seal. */
export function describeSandbox(record: SandboxRecord | null | undefined): string {
  if (!record) return 'not recorded (a seal made before the build sandbox)';
  const version = record.version ? ` (${record.version})` : '';
  return `${record.kind}${version}, network ${record.network_cut ? 'cut' : 'open'}`;
}

/** The sandbox a build record's body (read leniently, as `show` reads stored seals) says its hooks ran in. */
export function sandboxOfBuild(body: unknown): SandboxRecord | null {
  const s = (body as { sandbox?: Partial<SandboxRecord> } | null)?.sandbox;
  if (!s || (s.kind !== 'bwrap' && s.kind !== 'uid' && s.kind !== 'none') || typeof s.network_cut !== 'boolean') return null;
  return { kind: s.kind, version: typeof s.version === 'string' ? s.version : null, network_cut: s.network_cut };
}
