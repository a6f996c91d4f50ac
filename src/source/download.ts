// downloadVerified: the sdist's bytes stream through SHA-256 and a byte counter into a temporary file
// beside the destination (a run's work folder). The listed size is checked first (from Content-Length before any byte, and
// on every chunk), then the digest, in constant time; only a file that passed both is renamed into
// place. Any failure removes the temporary file. Transient network failures restart the download from
// the first byte; a size or digest mismatch is a verdict and is never retried.

import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SealedError, isSealedError } from '../errors.js';
import { SHA256_HEX, digestsEqual } from '../core/digest.js';
import { renameIntoPlace } from '../util/fs.js';
import type { SdistCandidate } from '../index/index.js';
import { ConnectError, Deadline, HttpClient, HttpStatusError, RedirectError, connectHint, describeFailure, discard, downloadDeadlineMs, redactUrl } from '../http/index.js';
import { isSafeFilename } from '../index/find.js';

export interface DownloadResult {
  path: string;
  sha256: string;
  size: number;
  /** Where the bytes came from, after redirects (file hosts may live elsewhere); no credentials. */
  url: string;
}

export interface DownloadOptions {
  onProgress?: (bytes: number, total: number | null) => void;
  /** The run's client (with the index's credentials); a new one when not given. */
  http?: HttpClient;
}

class Meter extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;

  constructor(
    private readonly limit: number,
    private readonly onLimit: (bytes: number) => SealedError,
    private readonly onProgress?: (bytes: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      done(this.onLimit(this.bytes));
      return;
    }
    this.hash.update(chunk);
    try {
      this.onProgress?.(this.bytes);
    } catch {
      // A failing progress display must not fail the download.
    }
    done(null, chunk);
  }
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

export async function downloadVerified(c: SdistCandidate, destDir: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  // Defence in depth: findSdist already refuses these, but a candidate may come from elsewhere.
  if (typeof c.sha256 !== 'string' || !SHA256_HEX.test(c.sha256.toLowerCase())) {
    throw new SealedError('NO_INDEX_HASH', `No usable sha256 is listed for ${c.filename}; Sealed downloads nothing it cannot verify.`, {
      expected: 'a sha256 in the index listing',
      found: c.sha256 ?? null,
    });
  }
  if (!isSafeFilename(c.filename)) {
    throw new SealedError('INDEX_ERROR', `The index lists a file name that is not a plain name: "${c.filename}".`, { found: c.filename });
  }
  const url = new URL(c.url);
  if (url.protocol === 'file:' && !c.indexUrl.startsWith('file:')) {
    throw new SealedError('INDEX_ERROR', `Only a file:// index may point at a local file (${url.href}).`, { found: url.href });
  }
  const listedSize = c.size;
  const expected = c.sha256.toLowerCase();
  const http = opts.http ?? new HttpClient();
  const policy = http.policy;
  await mkdir(destDir, { recursive: true });
  const finalPath = join(destDir, c.filename);
  // One deadline for the download, retries included; with the size known, it allows only the minimum
  // rate, so a server trickling bytes (which the idle timeout never catches) is cut off.
  const deadline = new Deadline(downloadDeadlineMs(policy, listedSize));
  const timedOut = (bytes: number) =>
    new SealedError('INDEX_TIMEOUT', `Downloading ${c.filename} did not finish within ${deadline.totalMs} ms (${bytes} bytes received); nothing was kept.`, {
      expected: `the whole file within ${deadline.totalMs} ms`,
      found: `${bytes} bytes`,
      where: redactUrl(url),
      hint: 'The file host is too slow or is holding the connection open; try again later.',
    });

  return http.withRetries(
    async () => {
      if (deadline.expired) throw timedOut(0);
      const tmp = join(destDir, `.${c.filename}.${process.pid}.${randomBytes(6).toString('hex')}.part`);
      let opened;
      try {
        opened = await http.open(url, { accept: '*/*', acceptEncoding: 'identity', allowDowngrade: true, signal: deadline.signal });
      } catch (e) {
        if (deadline.expired) throw timedOut(0);
        if (e instanceof HttpStatusError) {
          throw new SealedError('INDEX_ERROR', `The index lists ${c.filename} but answered HTTP ${e.status} for it.`, {
            found: `HTTP ${e.status}`,
            where: redactUrl(url),
            hint: e.status === 401 || e.status === 403 ? 'The file host wants credentials.' : 'The index is inconsistent; try again later or report it to the index operator.',
          });
        }
        if (e instanceof RedirectError) throw new SealedError('INDEX_ERROR', e.message, e.details);
        if (e instanceof ConnectError) {
          throw new SealedError('NETWORK', `Cannot download ${c.filename} (${e.message}); nothing was kept.`, { found: e.message, where: redactUrl(url), hint: connectHint(e) });
        }
        throw e;
      }
      const { body, contentLength } = opened;
      if (listedSize === null && contentLength !== null) deadline.tighten(downloadDeadlineMs(policy, contentLength));
      if (listedSize !== null && contentLength !== null && contentLength !== listedSize && !opened.contentEncoding) {
        discard(body);
        throw sizeMismatch(c, listedSize, contentLength, 'the server announced');
      }
      const limit = listedSize ?? contentLength ?? policy.maxDownloadBytes;
      const total = listedSize ?? contentLength;
      const meter = new Meter(
        limit,
        (n) => (listedSize !== null || contentLength !== null ? sizeMismatch(c, limit, n, 'the server sent at least') : tooLarge(c, limit)),
        opts.onProgress ? (n) => opts.onProgress!(n, total) : undefined,
      );
      try {
        await pipeline(body, meter, createWriteStream(tmp, { flags: 'wx', mode: 0o644, highWaterMark: 1 << 20 }));
        if (listedSize !== null && meter.bytes !== listedSize) throw sizeMismatch(c, listedSize, meter.bytes, 'the server sent');
        if (contentLength !== null && meter.bytes !== contentLength) {
          // A body that ended short of its own Content-Length is a broken transfer, worth another try.
          throw Object.assign(new Error(`body ended after ${meter.bytes} of ${contentLength} bytes`), { code: 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' });
        }
        const found = meter.hash.digest('hex');
        if (!digestsEqual(found, expected)) {
          throw new SealedError('DIGEST_MISMATCH', `${c.filename} does not match the sha256 the index lists for it.`, {
            expected,
            found,
            where: redactUrl(url),
            hint: 'The file was changed or corrupted after the index listed it; nothing was kept. Report it to the index operator.',
          });
        }
        // Visible under its real name only once verified. Not fsynced: the file lives in this run's work
        // folder, which is removed when the run ends, so durability buys nothing.
        renameIntoPlace(tmp, finalPath);
        return { path: finalPath, sha256: found, size: meter.bytes, url: redactUrl(opened.url) };
      } catch (e) {
        discard(body);
        await removeQuietly(tmp);
        if (deadline.expired && !isSealedError(e)) throw timedOut(meter.bytes);
        throw e;
      }
    },
    (last, tries) =>
      new SealedError('NETWORK', `Downloading ${c.filename} failed ${tries} times (${describeFailure(last)}); nothing was kept.`, {
        found: describeFailure(last),
        where: redactUrl(url),
        hint: 'Check your network and HTTPS_PROXY/NO_PROXY, then try again.',
      }),
  ).finally(() => deadline.clear()).catch((e: unknown) => {
    if (isSealedError(e)) throw e;
    throw new SealedError('IO', `Downloading ${c.filename} failed: ${describeFailure(e)}.`, { where: destDir }, { cause: e });
  });
}

function sizeMismatch(c: SdistCandidate, expected: number, found: number, how: string): SealedError {
  return new SealedError('SIZE_MISMATCH', `${c.filename}: the index lists ${expected} bytes, ${how} ${found}; nothing was kept.`, {
    expected,
    found,
    hint: 'The index or its file host is inconsistent; report it to the index operator.',
  });
}

function tooLarge(c: SdistCandidate, limit: number): SealedError {
  return new SealedError('SIZE_MISMATCH', `${c.filename} is larger than ${limit} bytes and the index lists no size; the download was stopped.`, {
    expected: `at most ${limit} bytes`,
    found: `more than ${limit} bytes`,
  });
}
