// Reads a wheel's members for comparison: name, size, SHA-256, mode and time of each, in archive order,
// and the text of small text members so a difference can be shown, not just named. Streams every member
// through SHA-256; the archive reader bounds entry count and unpacked bytes as it does for sdists.

import { createHash } from 'node:crypto';
import { walkZip } from '../source/archive.js';
import type { WheelMember } from './compare.js';

const LIMITS = { maxEntries: 200_000, maxDecompressed: 8 * 1024 * 1024 * 1024 };
/** Members up to this size that hold no NUL byte keep their text, for the first differing line. */
const TEXT_BYTES = 256 * 1024;
/** And all kept text together stays below this, whatever the wheel holds. */
const TEXT_BUDGET = 32 * 1024 * 1024;

export async function readWheelMembers(path: string): Promise<WheelMember[]> {
  const members: WheelMember[] = [];
  let kept = 0;
  await walkZip(path, LIMITS, async (entry, body) => {
    if (entry.kind === 'directory') return;
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = kept + TEXT_BYTES <= TEXT_BUDGET;
    for await (const chunk of await body()) {
      const buf = Buffer.from(chunk);
      hash.update(buf);
      size += buf.length;
      if (keep && size <= TEXT_BYTES) chunks.push(buf);
    }
    const bytes = keep && size <= TEXT_BYTES ? Buffer.concat(chunks) : null;
    kept += bytes?.length ?? 0;
    members.push({
      name: entry.name,
      size,
      sha256: hash.digest('hex'),
      mode: entry.mode & 0o7777,
      mtime: entry.mtime && !Number.isNaN(entry.mtime.getTime()) ? entry.mtime.toISOString() : null,
      text: bytes && !bytes.includes(0) ? bytes.toString('utf8') : null,
    });
  });
  return members;
}
