// Every single-value change to a seal: each leaf (string, number, boolean, null) altered in turn, and
// each array shortened. Verification must refuse every one of them.

export interface Tampered {
  path: string;
  seal: unknown;
}

function alter(value: unknown): unknown {
  if (typeof value === 'string') {
    if (/^[0-9a-f]+$/.test(value) && value.length > 0) return (value[0] === '0' ? '1' : '0') + value.slice(1);
    const m = /^(ed25519:|sha256:)([0-9a-f]+)$/.exec(value);
    if (m) return m[1] + (m[2]![0] === '0' ? '1' : '0') + m[2]!.slice(1);
    if (/^[A-Za-z0-9+/]+=*$/.test(value) && value.length >= 86) return (value[0] === 'A' ? 'B' : 'A') + value.slice(1);
    return value + 'x';
  }
  if (typeof value === 'number') return value + 1;
  if (typeof value === 'boolean') return !value;
  if (value === null) return 'x';
  return value;
}

export function* tamperings(seal: unknown): Generator<Tampered> {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    if (Array.isArray(v)) {
      if (v.length > 0) paths.push([...path, '#shorten']);
      v.forEach((x, i) => walk(x, [...path, i]));
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    } else {
      paths.push(path);
    }
  };
  walk(seal, []);
  for (const path of paths) {
    const copy = structuredClone(seal) as Record<string | number, unknown>;
    let parent: Record<string | number, unknown> = copy;
    for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    if (last === '#shorten') (parent as unknown as unknown[]).pop();
    else parent[last] = alter(parent[last]);
    yield { path: path.join('.'), seal: copy };
  }
}
