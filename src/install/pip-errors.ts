// What a failed pip run said, when it is a verdict rather than an operational failure. pip checks the
// sha256 an index lists before Sealed downloads anything, so a tampered sdist is first noticed by pip's
// resolver; that is a DIGEST_MISMATCH (exit 1, expected and found), not PIP_FAILED.

export interface PipHashMismatch {
  /** What pip named (e.g. "demo==1.0 from https://host/demo-1.0.tar.gz"). */
  requirement: string | null;
  /** The file's URL, without the hash fragment, when pip printed it. */
  url: string | null;
  expected: string;
  found: string;
}

/**
 * Reads pip's hash-mismatch report:
 *     demo==1.0 from http://host/files/demo-1.0.tar.gz#sha256=...:
 *         Expected sha256 <hex>
 *              Got        <hex>
 * Only the first mismatch is returned; null when the output has none.
 */
export function parsePipHashMismatch(output: string): PipHashMismatch | null {
  const lines = output.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const expected = /^\s*Expected sha256 ([0-9a-f]{64})\s*$/i.exec(lines[i]!);
    if (!expected) continue;
    let found: string | null = null;
    for (let j = i + 1; j < Math.min(lines.length, i + 4) && !found; j++) {
      const got = /^\s*Got\s+([0-9a-f]{64})\s*$/i.exec(lines[j]!);
      if (got) found = got[1]!.toLowerCase();
    }
    if (!found) continue;
    const header = i > 0 ? /^\s*(.+?) from (\S+?):\s*$/.exec(lines[i - 1]!) : null;
    const url = header ? header[2]!.replace(/#.*$/, '') : null;
    return { requirement: header ? `${header[1]} from ${url}` : null, url, expected: expected[1]!.toLowerCase(), found };
  }
  return null;
}
