import { createHash, timingSafeEqual } from 'node:crypto';

export const SHA256_HEX = /^[0-9a-f]{64}$/;

export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Compares two hex digests in constant time. Case-insensitive, because indexes are not consistent
 * about it; different lengths or non-hex input compare unequal without throwing.
 */
export function digestsEqual(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x.length !== y.length || x.length === 0 || !/^[0-9a-f]+$/.test(x) || !/^[0-9a-f]+$/.test(y)) return false;
  return timingSafeEqual(Buffer.from(x, 'hex'), Buffer.from(y, 'hex'));
}
