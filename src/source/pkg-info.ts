// The head of an sdist's PKG-INFO (core metadata, RFC 822 style): the fields before the first blank
// line, continuation lines folded. Only Name and Version matter for the check; the body (the long
// description) is never parsed.

export interface PkgInfo {
  metadataVersion: string | null;
  name: string | null;
  version: string | null;
}

export function parsePkgInfo(bytes: Buffer): PkgInfo {
  const text = new TextDecoder('utf-8').decode(bytes);
  const fields = new Map<string, string>();
  let last: string | null = null;
  for (const line of text.split(/\r\n|\n|\r/)) {
    if (line === '') break;
    if (/^[ \t]/.test(line)) {
      if (last !== null && fields.has(last)) fields.set(last, `${fields.get(last)!}\n${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      last = null;
      continue;
    }
    const key = line.slice(0, colon).trim().toLowerCase();
    // The first occurrence wins; Name and Version are single-use fields.
    if (fields.has(key)) {
      last = null;
      continue;
    }
    last = key;
    fields.set(key, line.slice(colon + 1).trim());
  }
  return {
    metadataVersion: fields.get('metadata-version') ?? null,
    name: fields.get('name') || null,
    version: fields.get('version') || null,
  };
}
