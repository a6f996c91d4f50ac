// Timeouts, sizes and retries of one HTTP client. Tests and benchmarks make a client with their own.

export interface HttpPolicy {
  connectTimeoutMs: number;
  /** Time to wait for the response headers. */
  headersTimeoutMs: number;
  /** Longest silence allowed inside a response body. */
  bodyIdleTimeoutMs: number;
  /** Deadline for reading one index page, its retries included. */
  pageDeadlineMs: number;
  /** A download's deadline, retries included: this much, plus its size at the minimum rate below. */
  downloadDeadlineBaseMs: number;
  /** The slowest average rate a download of known size may keep. */
  minDownloadBytesPerSecond: number;
  /** The deadline of a download whose size neither the index nor the server gives. */
  downloadDeadlineUnknownSizeMs: number;
  /** Largest index page accepted, after decompression. */
  maxPageBytes: number;
  /** Largest download when the index lists no size. */
  maxDownloadBytes: number;
  /** Tries in all, the first included. */
  attempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  maxRedirects: number;
}

export const DEFAULT_HTTP_POLICY: Readonly<HttpPolicy> = {
  connectTimeoutMs: 15_000,
  headersTimeoutMs: 30_000,
  bodyIdleTimeoutMs: 60_000,
  pageDeadlineMs: 120_000,
  downloadDeadlineBaseMs: 120_000,
  minDownloadBytesPerSecond: 32 * 1024,
  downloadDeadlineUnknownSizeMs: 60 * 60_000,
  maxPageBytes: 256 * 1024 * 1024,
  maxDownloadBytes: 4 * 1024 * 1024 * 1024,
  attempts: 4,
  backoffBaseMs: 500,
  backoffMaxMs: 4_000,
  maxRedirects: 10,
};


/** How long a download of `size` bytes (null: unknown) may take in all. */
export function downloadDeadlineMs(p: Readonly<HttpPolicy>, size: number | null): number {
  if (size === null) return p.downloadDeadlineUnknownSizeMs;
  return p.downloadDeadlineBaseMs + Math.ceil((size / Math.max(1, p.minDownloadBytesPerSecond)) * 1000);
}
