import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_HTTP_POLICY, Deadline, downloadDeadlineMs } from '../../src/http/index.js';

describe('http: a deadline', () => {
  it('when tightened to later than it is, stays as it was', () => {
    const d = new Deadline(60_000);
    d.tighten(600_000);
    assert.equal(d.totalMs, 60_000);
    assert.equal(d.expired, false);
    d.clear();
  });
  it('when tightened to a moment already past, expires at once and aborts its signal as a timeout', () => {
    const d = new Deadline(60_000);
    d.tighten(0);
    assert.equal(d.expired, true);
    assert.equal((d.signal.reason as Error).name, 'TimeoutError');
  });
  it('when its length is zero, is expired from the start', () => {
    assert.equal(new Deadline(0).expired, true);
  });
});

describe("http: a download's deadline", () => {
  it('grows with the size at the minimum rate, and an unknown size gets the fixed one', () => {
    const p = { ...DEFAULT_HTTP_POLICY, downloadDeadlineBaseMs: 1_000, minDownloadBytesPerSecond: 1_000 };
    assert.equal(downloadDeadlineMs(p, 0), 1_000);
    assert.equal(downloadDeadlineMs(p, 5_000), 6_000);
    assert.equal(downloadDeadlineMs(p, null), p.downloadDeadlineUnknownSizeMs);
  });
  it('when the minimum rate is set to zero, does not divide by it', () => {
    assert.ok(Number.isFinite(downloadDeadlineMs({ ...DEFAULT_HTTP_POLICY, minDownloadBytesPerSecond: 0 }, 10)));
  });
});
