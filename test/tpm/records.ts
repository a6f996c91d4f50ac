// Synthetic records around real TPM evidence: package, source and environment before the TPM record,
// build and artifact after it. The values are fake; their shapes match the seal schema.

import { createHash } from 'node:crypto';
import type { RecordInput, TpmBody } from '../../src/chain/types.js';
import { createSeal, tpmQualifyingData, type Seal, type SigningKey } from '../../src/seal/index.js';
import type { TpmSession } from '../../src/tpm/index.js';

const h = (s: string) => createHash('sha256').update(s).digest('hex');

export function headRecords(name: string, version = '1.0.0'): RecordInput[] {
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
        index_sha256: h(sdist),
        sha256: h(sdist),
        size: 4096,
      },
    },
    {
      type: 'environment',
      body: {
        python: { path: '/usr/bin/python3', version: '3.12.3', implementation: 'cpython', sha256: h('python') },
        pip_version: '24.0',
        kernel: { release: '6.8.0', version: '#1 SMP' },
        os_release: { ID: 'debian' },
        cpu_arch: 'x86_64',
        libc: { name: 'glibc', version: '2.36' },
        compilers: [],
        env_vars: {},
        tpm: 'present',
      },
    },
  ];
}

export function tailRecords(name: string, version = '1.0.0'): RecordInput[] {
  return [
    {
      type: 'build',
      body: {
        backend: 'setuptools.build_meta',
        backend_path: null,
        build_system_requires: ['setuptools>=61'],
        requirements: [{ name: 'setuptools', version: '69.0.0', sha256: h('setuptools'), url: null }],
        python: { path: '/usr/bin/python3', version: '3.12.3', sha256: h('python') },
        config_settings: null,
        started_at: '2024-01-01T00:00:00Z',
        finished_at: '2024-01-01T00:00:05Z',
        result: 'success',
      },
    },
    { type: 'artifact', body: { filename: `${name.replace(/-/g, '_')}-${version}-py3-none-any.whl`, sha256: h(`wheel:${name}`), size: 2048 } },
  ];
}

/** The records of a seal with the given TPM body in its place. */
export function recordsWith(name: string, tpm: TpmBody): RecordInput[] {
  return [...headRecords(name), { type: 'tpm', body: tpm }, ...tailRecords(name)];
}

/** A whole seal whose TPM evidence is bound to its own chain, as the build pipeline makes it. */
export async function sealWithTpm(session: TpmSession, key: SigningKey, name: string): Promise<{ seal: Seal; tpm: TpmBody }> {
  const tpm = await session.collectEvidence(tpmQualifyingData(headRecords(name)));
  return { seal: createSeal(recordsWith(name, tpm), key), tpm };
}

/** Re-signs a seal whose TPM body was changed, so the chain and signature hold and only the TPM check can fail. */
export function resealWith(name: string, tpm: TpmBody, key: SigningKey): Seal {
  return createSeal(recordsWith(name, tpm), key);
}
