// Synthetic but valid seals for registry and policy tests and benchmarks: every record matches the
// seal schema and the chain and signature verify; the values are fake (no real build happened).

import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { createSeal, type Seal, type SigningKey, type SoftwareKey } from '../../src/seal/index.js';
import type { RecordInput } from '../../src/chain/types.js';
import { signMessage } from '../../src/seal/keys.js';
import type { StatementSigner } from '../../src/registry/statements.js';

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function hex64(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}

/** A fixed-seed key: the same label always gives the same key. */
export function testKey(label: string | number): SoftwareKey {
  const seed = Buffer.from(hex64(`sealed-test-key:${label}`), 'hex');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return { privateKey, publicKey: Buffer.from(String(jwk.x), 'base64url'), path: `(test key ${label})` };
}

export interface SealSpec {
  key: SigningKey;
  name?: string;
  version?: string;
  /** The sdist SHA-256 both the index and the download agree on. */
  sourceSha256?: string;
  /** Makes otherwise identical builds distinct (a different chain hash), e.g. a rebuild. */
  build?: string | number;
  artifactSha256?: string;
  artifactSize?: number;
}

export function wheelFilename(name: string, version: string): string {
  return `${name.replace(/-/g, '_')}-${version}-py3-none-any.whl`;
}

export function sealRecords(spec: Omit<SealSpec, 'key'>): RecordInput[] {
  const name = spec.name ?? 'demo-pkg';
  const version = spec.version ?? '1.0.0';
  const source = spec.sourceSha256 ?? hex64(`source:${name}:${version}`);
  const build = String(spec.build ?? 0);
  const sdist = `${name.replace(/-/g, '_')}-${version}.tar.gz`;
  return [
    { type: 'package', body: { name, version, index_url: 'https://pypi.org/simple/' } },
    {
      type: 'source',
      body: {
        kind: 'index',
        filename: sdist,
        url: `https://files.example.test/${sdist}`,
        index_url: 'https://pypi.org/simple/',
        index_sha256: source,
        sha256: source,
        size: 12345,
      },
    },
    {
      type: 'environment',
      body: {
        python: { path: '/usr/bin/python3', version: '3.12.3', implementation: 'cpython', sha256: hex64('python') },
        pip_version: '24.0',
        kernel: { release: '6.8.0-test', version: '#1 SMP' },
        os_release: { ID: 'debian', VERSION_ID: '12' },
        cpu_arch: 'x86_64',
        libc: { name: 'glibc', version: '2.36' },
        compilers: [{ name: 'cc', path: '/usr/bin/cc', version: '12.2.0', sha256: hex64('cc') }],
        // The build label makes a rebuild's chain hash differ from the first build's.
        env_vars: { SOURCE_DATE_EPOCH: '0', SEALED_TEST_BUILD: build },
        tpm: 'absent',
      },
    },
    {
      type: 'build',
      body: {
        backend: 'setuptools.build_meta',
        backend_path: null,
        build_system_requires: ['setuptools>=61'],
        requirements: [{ name: 'setuptools', version: '69.0.0', sha256: hex64('setuptools'), url: null }],
        python: { path: '/usr/bin/python3', version: '3.12.3', sha256: hex64('python') },
        config_settings: null,
        started_at: '2024-05-01T12:00:00Z',
        finished_at: '2024-05-01T12:01:00Z',
        result: 'success',
      },
    },
    {
      type: 'artifact',
      body: {
        filename: wheelFilename(name, version),
        sha256: spec.artifactSha256 ?? hex64(`wheel:${name}:${version}:${build}`),
        size: spec.artifactSize ?? 4321,
      },
    },
  ];
}

/** A valid seal; with the same spec (and key) the same seal, byte for byte. */
export function makeSeal(spec: SealSpec): Seal {
  return createSeal(sealRecords(spec), spec.key);
}

/** A copy of the seal with its signature bytes changed (still schema-valid). */
export function withBadSignature(seal: Seal): Seal {
  const sig = Buffer.from(seal.signature.value, 'base64');
  sig[5] = (sig[5] ?? 0) ^ 0xff;
  return { ...seal, signature: { ...seal.signature, value: sig.toString('base64') } };
}

/** A copy whose artifact record was edited after sealing (the chain no longer matches). */
export function withBrokenChain(seal: Seal): Seal {
  const copy = JSON.parse(JSON.stringify(seal)) as Seal;
  const artifact = copy.records[copy.records.length - 1]!;
  (artifact.body as { size: number }).size += 1;
  return copy;
}

/** A test key as the signer of an export's trust statements (pins and revocations). */
export function statementSignerOf(key: SigningKey): StatementSigner {
  return { publicKey: key.publicKey, sign: (message) => signMessage(key, message) };
}
