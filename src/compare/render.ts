// The human rendering of a comparison. Everything shown comes from seals and wheels, which are outside
// input: control characters are escaped so a member name cannot move the cursor or fake a line.

import type { Comparison, PairComparison } from './compare.js';

export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function renderComparison(c: Comparison): string {
  const lines: string[] = [];
  lines.push(c.same_artifact ? 'IDENTICAL artifacts' : 'DIFFERENT artifacts');
  lines.push(c.same_source ? 'same source' : 'different sources');
  if (c.artifacts.length > 1 || c.artifacts[0]!.signers.length > 1) {
    lines.push('artifacts and who built them:');
    for (const g of c.artifacts) lines.push(`  ${g.sha256} ${printable(g.filename)}: ${g.signers.join(', ')}`);
  }
  for (const p of c.pairs) lines.push('', ...renderPair(p));
  return lines.join('\n');
}

export function renderPair(p: PairComparison): string[] {
  const lines = [`${printable(p.a.label)}  vs  ${printable(p.b.label)}`];
  lines.push(`  signers: ${p.a.fingerprint}  vs  ${p.b.fingerprint}`);
  for (const e of p.explanation) lines.push(`  ${printable(e)}`);
  if (p.members) {
    for (const m of p.members.changed) {
      if (!m.first_difference) continue;
      lines.push(`    ${printable(m.name)} line ${m.first_difference.line}:`);
      lines.push(`      - ${printable(m.first_difference.a ?? '(no such line)')}`);
      lines.push(`      + ${printable(m.first_difference.b ?? '(no such line)')}`);
    }
  }
  if (p.facts.length > 0) {
    lines.push('  recorded facts that differ:');
    const width = Math.min(48, Math.max(...p.facts.map((f) => f.fact.length)));
    for (const f of p.facts) lines.push(`    ${printable(f.fact).padEnd(width)}  ${printable(f.a ?? '(absent)')}  |  ${printable(f.b ?? '(absent)')}`);
  }
  return lines;
}
