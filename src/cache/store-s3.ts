// A cache in an S3-compatible bucket (s3://bucket/prefix), through the official AWS SDK v3 S3 client.
// Immutable objects are written with If-None-Match: *, the checkpoint and lock with If-Match on the
// ETag read before: S3 (since 2024), MinIO, Ceph RGW, R2 and moto honour both.
// Endpoint: --s3-endpoint, else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL; credentials and region: the
// SDK's standard chain (environment, shared config and credentials files, SSO, instance roles).

import { SealedError } from '../errors.js';
import { tooLarge } from './store-file.js';
import { checkKey } from './layout.js';
import { requireCommonJs } from '../util/require.js';
import type { CacheStore, StoreOptions, StoredObject } from './store.js';

type Sdk = typeof import('@aws-sdk/client-s3');
type S3 = InstanceType<Sdk['S3Client']>;

interface SdkError {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  message?: string;
}

function status(e: unknown): number | undefined {
  return (e as SdkError | null)?.$metadata?.httpStatusCode;
}

export async function openS3Store(url: string, parsed: URL, opts: StoreOptions): Promise<CacheStore> {
  // Sealed supports Node 20; the SDK's notice about its own future releases is not the user's concern.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = requireCommonJs('@aws-sdk/client-s3') as Sdk;
  const bucket = parsed.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new SealedError('USAGE', `${JSON.stringify(bucket)} in ${url} is not an S3 bucket name.`);
  const path = decodeURIComponent(parsed.pathname).replace(/^\/+|\/+$/g, '');
  if (path !== '') checkKey(path);
  const endpoint = opts.s3Endpoint ?? opts.env.AWS_ENDPOINT_URL_S3 ?? opts.env.AWS_ENDPOINT_URL;
  const region = opts.env.AWS_REGION ?? opts.env.AWS_DEFAULT_REGION ?? (endpoint !== undefined ? 'us-east-1' : undefined);
  const client = new sdk.S3Client({
    ...(endpoint !== undefined ? { endpoint, forcePathStyle: true } : {}),
    ...(region !== undefined ? { region } : {}),
    maxAttempts: 4,
    // Every object read is checked by Sealed itself: by its SHA-256 (content-addressed objects, the log
    // key), against a signed checkpoint (tiles), or not believed at all (listings). The SDK's own CRC
    // of each response would only repeat that. Uploads still carry the SDK's checksum.
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return new S3Store(url, sdk, client, bucket, path === '' ? '' : `${path}/`, endpoint);
}

class S3Store implements CacheStore {
  readonly writable = true;

  constructor(
    readonly url: string,
    private readonly sdk: Sdk,
    private readonly client: S3,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly endpoint: string | undefined,
  ) {}

  private key(key: string): string {
    checkKey(key);
    return this.prefix + key;
  }

  private fail(e: unknown, what: string): SealedError {
    const err = e as SdkError;
    const code = err?.Code ?? err?.name ?? 'error';
    const where = this.endpoint !== undefined ? ` at ${this.endpoint}` : '';
    if (code === 'NoSuchBucket') {
      return new SealedError('CACHE_NOT_INITIALIZED', `The bucket ${this.bucket}${where} does not exist.`, { hint: `Run \`sealed cache init ${this.url}\`.` });
    }
    return new SealedError('CACHE_UNREACHABLE', `The S3 cache ${this.url}${where} failed to ${what}: ${code}${err?.message && err.message !== code ? ` (${err.message.slice(0, 200)})` : ''}.`, {
      hint: 'Check the endpoint (--s3-endpoint or AWS_ENDPOINT_URL), the credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE, ...) and the bucket.',
    }, { cause: e });
  }

  async get(key: string, maxBytes: number): Promise<StoredObject | null> {
    let out;
    try {
      out = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
    } catch (e) {
      if (status(e) === 404 && (e as SdkError).name !== 'NoSuchBucket' && (e as SdkError).Code !== 'NoSuchBucket') return null;
      throw this.fail(e, `read ${key}`);
    }
    if (out.ContentLength !== undefined && out.ContentLength > maxBytes) {
      (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
      throw tooLarge(this.url, key, maxBytes);
    }
    const body = Buffer.from((await out.Body?.transformToByteArray()) ?? new Uint8Array());
    if (body.length > maxBytes) throw tooLarge(this.url, key, maxBytes);
    return { body, etag: out.ETag ?? '' };
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      return true;
    } catch (e) {
      if (status(e) === 404) return false;
      throw this.fail(e, `look up ${key}`);
    }
  }

  async putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    return (await this.conditionalPut(key, body, { IfNoneMatch: '*' })) !== null;
  }

  async swap(key: string, body: Buffer, etag: string | null): Promise<string | null> {
    return this.conditionalPut(key, body, etag === null ? { IfNoneMatch: '*' } : { IfMatch: etag });
  }

  private async conditionalPut(key: string, body: Buffer, condition: { IfNoneMatch: string } | { IfMatch: string }): Promise<string | null> {
    try {
      const out = await this.client.send(new this.sdk.PutObjectCommand({ Bucket: this.bucket, Key: this.key(key), Body: body, ...condition }));
      return out.ETag ?? '';
    } catch (e) {
      // 412: the condition failed; 409: a concurrent conditional write to the same key won.
      if (status(e) === 412 || status(e) === 409) return null;
      throw this.fail(e, `write ${key}`);
    }
  }

  async remove(key: string, etag: string): Promise<void> {
    try {
      await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(key), IfMatch: etag }));
    } catch (e) {
      if (status(e) === 412 || status(e) === 404) return;
      throw this.fail(e, `remove ${key}`);
    }
  }

  async list(prefix: string, opts: { startAfter?: string; limit: number }): Promise<string[]> {
    try {
      const out = await this.client.send(
        new this.sdk.ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          MaxKeys: opts.limit,
          ...(opts.startAfter !== undefined ? { StartAfter: this.prefix + opts.startAfter } : {}),
        }),
      );
      return (out.Contents ?? []).map((c) => (c.Key ?? '').slice(this.prefix.length)).filter((k) => k.startsWith(prefix));
    } catch (e) {
      throw this.fail(e, `list ${prefix}`);
    }
  }

  /** Creates the bucket when it does not exist yet (`sealed cache init`). */
  async prepare(): Promise<void> {
    try {
      await this.client.send(new this.sdk.HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (e) {
      if (status(e) !== 404) throw this.fail(e, 'find the bucket');
    }
    try {
      await this.client.send(new this.sdk.CreateBucketCommand({ Bucket: this.bucket }));
    } catch (e) {
      const code = (e as SdkError).Code ?? (e as SdkError).name;
      if (code !== 'BucketAlreadyOwnedByYou') throw this.fail(e, 'create the bucket');
    }
  }
}
