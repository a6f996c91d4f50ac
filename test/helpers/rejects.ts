// The "fails with this code" pattern: tests assert the SealedError class and code, never the message.
import assert from 'node:assert/strict';
import { isSealedError, type ErrorCode, type SealedError } from '../../src/errors.js';

/** Awaits a promise that must reject with a SealedError of `code`; returns the error for more checks. */
export async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<SealedError> {
  let caught: unknown = undefined;
  let rejected = false;
  try {
    await p;
  } catch (e) {
    rejected = true;
    caught = e;
  }
  assert.ok(rejected, `expected a rejection with ${code}, but it resolved`);
  assert.ok(isSealedError(caught), `expected a SealedError (${code}), got ${String(caught)}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
  return caught;
}

/** Runs `fn`, which must throw a SealedError of `code`; returns the error. */
export function throwsWith(fn: () => unknown, code: ErrorCode): SealedError {
  let caught: unknown = undefined;
  let threw = false;
  try {
    fn();
  } catch (e) {
    threw = true;
    caught = e;
  }
  assert.ok(threw, `expected ${code} to be thrown, but nothing was`);
  assert.ok(isSealedError(caught), `expected a SealedError (${code}), got ${String(caught)}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
  return caught;
}

/** `items.every(pred)` that fails on an empty list: a check over nothing proves nothing. */
export function assertEvery<T>(items: readonly T[], pred: (item: T) => boolean, what: string): void {
  assert.ok(items.length > 0, `expected at least one ${what}, got none`);
  const bad = items.filter((item) => !pred(item));
  assert.equal(bad.length, 0, `${bad.length} of ${items.length} ${what} fail the check: ${JSON.stringify(bad.slice(0, 3))}`);
}
