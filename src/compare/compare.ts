// Two seals side by side, as a rebuilder would read them: same source? same artifact? and when the wheels
// differ, what differs: the members (by name and SHA-256, then their zip attributes and order, so that even
// two wheels whose contents agree are explained) and the recorded facts of the two builds (interpreter,
// compilers, kernel, variables, build requirements, reproducibility settings). Pure: the caller reads the
// seals and the wheels.

import type { BuildBody, EnvironmentBody } from '../chain/types.js';
import { recordBody, type Seal, type SealSummary } from '../seal/index.js';

export interface WheelMember {
  name: string;
  size: number;
  sha256: string;
  /** Permission bits from the zip entry (0 when the archive was not made on Unix). */
  mode: number;
  /** The zip entry's time, ISO 8601; null when it has none. */
  mtime: string | null;
  /** The member's text, when it is small and has no NUL byte; shows where two versions part. */
  text: string | null;
}

export interface SealView {
  /** How the user named it: a file path, or "name==version #2". */
  label: string;
  seal: Seal;
  summary: SealSummary;
  /** The wheel's members, or null when the wheel is not at hand (only its SHA-256 can be compared). */
  members: WheelMember[] | null;
}

export interface FactDifference {
  /** A dotted path into the records: "environment.compilers.gcc.version", "build.requirements.setuptools". */
  fact: string;
  a: string | null;
  b: string | null;
}

export interface ChangedMember {
  name: string;
  a: { sha256: string; size: number };
  b: { sha256: string; size: number };
  /** The first line that differs (1-based) and both versions of it, for text members. */
  first_difference: { line: number; a: string | null; b: string | null } | null;
}

export interface MemberAttributeDifference {
  name: string;
  attribute: 'mode' | 'mtime';
  a: string | null;
  b: string | null;
}

export interface MemberComparison {
  only_a: string[];
  only_b: string[];
  changed: ChangedMember[];
  /** Same content, different zip attributes. */
  attributes: MemberAttributeDifference[];
  /** True when both hold the same members in a different order (the zip bytes then differ). */
  order_differs: boolean;
}

export interface SealRef {
  label: string;
  chain_hash: string;
  fingerprint: string;
  artifact: { filename: string; sha256: string; size: number };
  source_sha256: string;
}

export interface PairComparison {
  a: SealRef;
  b: SealRef;
  same_package: boolean;
  same_source: boolean;
  same_artifact: boolean;
  /** Null when the artifacts are the same, or when a wheel was not at hand (see `missing_wheels`). */
  members: MemberComparison | null;
  missing_wheels: string[];
  /** Recorded facts that differ between the two builds (the environment and build records). */
  facts: FactDifference[];
  /** One line per conclusion, for people. */
  explanation: string[];
}

export interface ArtifactGroup {
  sha256: string;
  filename: string;
  /** Distinct signer fingerprints that produced this artifact, in the order given. */
  signers: string[];
  labels: string[];
}

export interface Comparison {
  same_source: boolean;
  same_artifact: boolean;
  artifacts: ArtifactGroup[];
  /** The first seal against every other. */
  pairs: PairComparison[];
}

export function compareSeals(views: readonly SealView[]): Comparison {
  if (views.length < 2) throw new Error('compareSeals needs at least two seals');
  const first = views[0]!;
  const pairs = views.slice(1).map((v) => comparePair(first, v));
  return {
    same_source: pairs.every((p) => p.same_source),
    same_artifact: pairs.every((p) => p.same_artifact),
    artifacts: groupArtifacts(views),
    pairs,
  };
}

export function groupArtifacts(views: readonly SealView[]): ArtifactGroup[] {
  const groups = new Map<string, ArtifactGroup>();
  for (const v of views) {
    const sha = v.summary.artifact.sha256;
    const g = groups.get(sha) ?? { sha256: sha, filename: v.summary.artifact.filename, signers: [], labels: [] };
    if (!g.signers.includes(v.summary.fingerprint)) g.signers.push(v.summary.fingerprint);
    g.labels.push(v.label);
    groups.set(sha, g);
  }
  return [...groups.values()];
}

export function comparePair(a: SealView, b: SealView): PairComparison {
  const sa = a.summary;
  const sb = b.summary;
  const samePackage = sa.name === sb.name && sa.version === sb.version;
  const sameSource = sa.sourceSha256 === sb.sourceSha256;
  const sameArtifact = sa.artifact.sha256 === sb.artifact.sha256;
  const missing = [a, b].filter((v) => v.members === null).map((v) => v.label);
  const members = !sameArtifact && a.members && b.members ? compareMembers(a.members, b.members) : null;
  const facts = compareFacts(a.seal, b.seal);
  return {
    a: ref(a),
    b: ref(b),
    same_package: samePackage,
    same_source: sameSource,
    same_artifact: sameArtifact,
    members,
    missing_wheels: sameArtifact ? [] : missing,
    facts,
    explanation: explain(samePackage, sameSource, sameArtifact, members, sameArtifact ? [] : missing, facts, sa, sb),
  };
}

function ref(v: SealView): SealRef {
  return {
    label: v.label,
    chain_hash: v.summary.chainHash,
    fingerprint: v.summary.fingerprint,
    artifact: { ...v.summary.artifact },
    source_sha256: v.summary.sourceSha256,
  };
}

export function compareMembers(a: readonly WheelMember[], b: readonly WheelMember[]): MemberComparison {
  const byName = (ms: readonly WheelMember[]) => new Map(ms.map((m) => [m.name, m]));
  const ma = byName(a);
  const mb = byName(b);
  const changed: ChangedMember[] = [];
  const attributes: MemberAttributeDifference[] = [];
  for (const x of a) {
    const y = mb.get(x.name);
    if (!y) continue;
    if (x.sha256 !== y.sha256) {
      changed.push({ name: x.name, a: { sha256: x.sha256, size: x.size }, b: { sha256: y.sha256, size: y.size }, first_difference: firstDifference(x.text, y.text) });
      continue;
    }
    if (x.mode !== y.mode) attributes.push({ name: x.name, attribute: 'mode', a: octal(x.mode), b: octal(y.mode) });
    if (x.mtime !== y.mtime) attributes.push({ name: x.name, attribute: 'mtime', a: x.mtime, b: y.mtime });
  }
  const common = (ms: readonly WheelMember[], other: Map<string, WheelMember>) => ms.filter((m) => other.has(m.name)).map((m) => m.name);
  const orderA = common(a, mb);
  const orderB = common(b, ma);
  return {
    only_a: a.filter((m) => !mb.has(m.name)).map((m) => m.name),
    only_b: b.filter((m) => !ma.has(m.name)).map((m) => m.name),
    changed,
    attributes,
    order_differs: orderA.some((n, i) => orderB[i] !== n),
  };
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

export function firstDifference(a: string | null, b: string | null): ChangedMember['first_difference'] {
  if (a === null || b === null) return null;
  const la = a.split('\n');
  const lb = b.split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return { line: i + 1, a: clip(la[i]), b: clip(lb[i]) };
  }
  return null;
}

function clip(line: string | undefined): string | null {
  if (line === undefined) return null;
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}

/** The two builds' recorded facts, flattened to dotted paths; only those that differ are returned. */
export function compareFacts(a: Pick<Seal, 'records'>, b: Pick<Seal, 'records'>): FactDifference[] {
  const fa = buildFacts(a);
  const fb = buildFacts(b);
  const keys = [...new Set([...fa.keys(), ...fb.keys()])].sort();
  const out: FactDifference[] = [];
  for (const k of keys) {
    const x = fa.get(k) ?? null;
    const y = fb.get(k) ?? null;
    if (x !== y) out.push({ fact: k, a: x, b: y });
  }
  return out;
}

// Times of the build differ on every run and say nothing about the artifact; they are left out.
const IGNORED = new Set(['build.started_at', 'build.finished_at']);

export function buildFacts(seal: Pick<Seal, 'records'>): Map<string, string> {
  const facts = new Map<string, string>();
  const env = recordBody(seal, 'environment') as EnvironmentBody | undefined;
  const build = recordBody(seal, 'build') as BuildBody | undefined;
  if (env) {
    const { compilers, env_vars, os_release, ...rest } = env;
    flatten('environment', rest, facts);
    for (const c of compilers) facts.set(`environment.compilers.${c.name}`, `${c.version} (sha256 ${c.sha256}, ${c.path})`);
    for (const [k, v] of Object.entries(env_vars)) facts.set(`environment.env_vars.${k}`, typeof v === 'string' ? v : '(present)');
    for (const [k, v] of Object.entries(os_release)) facts.set(`environment.os_release.${k}`, v);
  }
  if (build) {
    const { requirements, started_at, finished_at, ...rest } = build;
    void started_at;
    void finished_at;
    flatten('build', rest, facts);
    for (const r of requirements) facts.set(`build.requirements.${r.name}`, `${r.version} (sha256 ${r.sha256 ?? 'unknown'})`);
  }
  for (const k of IGNORED) facts.delete(k);
  return facts;
}

function flatten(prefix: string, value: unknown, out: Map<string, string>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(`${prefix}.${k}`, v, out);
    return;
  }
  out.set(prefix, typeof value === 'string' ? value : JSON.stringify(value));
}

function explain(
  samePackage: boolean,
  sameSource: boolean,
  sameArtifact: boolean,
  members: MemberComparison | null,
  missing: string[],
  facts: FactDifference[],
  sa: SealSummary,
  sb: SealSummary,
): string[] {
  const lines: string[] = [];
  if (!samePackage) lines.push(`different packages: ${sa.name} ${sa.version} and ${sb.name} ${sb.version}`);
  lines.push(sameSource ? `same source (sha256 ${sa.sourceSha256})` : `different sources: ${sa.sourceSha256} and ${sb.sourceSha256}`);
  if (sameArtifact) {
    lines.push(`same artifact: ${sa.artifact.filename} sha256 ${sa.artifact.sha256}`);
    if (facts.length > 0) lines.push(`built in different environments (${facts.length} recorded facts differ), with identical results`);
    return lines;
  }
  lines.push(`different artifacts: ${sa.artifact.filename} sha256 ${sa.artifact.sha256} and ${sb.artifact.filename} sha256 ${sb.artifact.sha256}`);
  if (missing.length > 0) lines.push(`the wheel of ${missing.join(' and ')} is not at hand: members cannot be compared`);
  if (members) {
    for (const m of members.changed) {
      const where = m.first_difference ? `, first at line ${m.first_difference.line}` : '';
      lines.push(`member ${m.name} differs (${m.a.size} and ${m.b.size} bytes${where})`);
    }
    if (members.only_a.length > 0) lines.push(`only in the first: ${members.only_a.join(', ')}`);
    if (members.only_b.length > 0) lines.push(`only in the second: ${members.only_b.join(', ')}`);
    const attrs = new Set(members.attributes.map((x) => x.attribute));
    for (const attr of attrs) {
      const names = members.attributes.filter((x) => x.attribute === attr).map((x) => x.name);
      lines.push(`same content, different zip ${attr === 'mode' ? 'permissions' : 'times'}: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}`);
    }
    if (members.order_differs) lines.push('the members are stored in a different order');
    const explained = members.changed.length + members.only_a.length + members.only_b.length + members.attributes.length > 0 || members.order_differs;
    if (!explained) lines.push('every member, attribute and the order agree: the zip container itself differs (compression or extra fields)');
  }
  return lines;
}
