// A seal as an in-toto Statement v1 carrying a SLSA Provenance v1 predicate. Pure: the same seal and
// Sealed version give the same statement, byte for byte, so an envelope can be made again from its seal
// and compared. The mapping, field by field, is in docs/attestations.md.

import { pathToFileURL } from 'node:url';
import { recordBody, type Seal } from '../seal/index.js';
import type { ArtifactBody, BuildBody, EnvironmentBody, PackageBody, SourceBody, TpmBody } from '../chain/types.js';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** Our buildType: what its external and internal parameters mean is documented in docs/attestations.md. */
export const BUILD_TYPE = 'https://sealed.dev/buildtypes/pep517-wheel/v1';
const BUILDER_PREFIX = 'https://sealed.dev/builders/local/';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
  mediaType?: string;
  annotations?: { [key: string]: Json };
}

export interface ProvenanceStatement {
  _type: typeof STATEMENT_TYPE;
  subject: [{ name: string; digest: { sha256: string } }];
  predicateType: typeof SLSA_PROVENANCE_V1;
  predicate: {
    buildDefinition: {
      buildType: string;
      externalParameters: { [key: string]: Json };
      internalParameters: { [key: string]: Json };
      resolvedDependencies: ResourceDescriptor[];
    };
    runDetails: {
      builder: { id: string; version: { sealed: string } };
      metadata: { invocationId: string; startedOn: string; finishedOn: string };
      byproducts: ResourceDescriptor[];
    };
  };
}

/** The builder id: this signer, by key fingerprint ("sha256:<hex>"). */
export function builderId(fingerprint: string): string {
  return BUILDER_PREFIX + fingerprint;
}

/** The records every seal has (the schema and chain check guarantee them on every read). */
export function sealFacts(seal: Seal): { pkg: PackageBody; source: SourceBody; env: EnvironmentBody; tpm: TpmBody | undefined; build: BuildBody; artifact: ArtifactBody } {
  return {
    pkg: recordBody(seal, 'package')!,
    source: recordBody(seal, 'source')!,
    env: recordBody(seal, 'environment')!,
    tpm: recordBody(seal, 'tpm'),
    build: recordBody(seal, 'build')!,
    artifact: recordBody(seal, 'artifact')!,
  };
}

export function provenanceStatement(seal: Seal, sealedVersion: string): ProvenanceStatement {
  const { pkg, source, env, tpm, build, artifact } = sealFacts(seal);
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: artifact.filename, digest: { sha256: artifact.sha256 } }],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: { package: { name: pkg.name, version: pkg.version }, index_url: pkg.index_url, source: externalSource(source, pkg) },
        internalParameters: {
          backend: build.backend,
          backend_path: build.backend_path,
          build_system_requires: build.build_system_requires,
          config_settings: build.config_settings,
          interpreter: { path: build.python.path, version: build.python.version, implementation: env.python.implementation },
        },
        resolvedDependencies: [
          sourceDependency(source),
          ...build.requirements.map(
            (r): ResourceDescriptor => ({
              name: r.name,
              ...(r.url !== null ? { uri: r.url } : {}),
              ...(r.sha256 !== null ? { digest: { sha256: r.sha256 } } : {}),
              annotations: { role: 'build-requirement', version: r.version },
            }),
          ),
          {
            name: 'python',
            uri: pathToFileURL(build.python.path).href,
            digest: { sha256: build.python.sha256 },
            annotations: { role: 'interpreter', version: build.python.version },
          },
        ],
      },
      runDetails: {
        builder: { id: builderId(seal.signature.fingerprint), version: { sealed: sealedVersion } },
        metadata: { invocationId: seal.chain_hash, startedOn: build.started_at, finishedOn: build.finished_at },
        byproducts: [
          { name: 'environment', mediaType: 'application/vnd.sealed.environment.v1+json', annotations: env as unknown as { [key: string]: Json } },
          ...(tpm ? [{ name: 'tpm', mediaType: 'application/vnd.sealed.tpm.v1+json', annotations: tpm as unknown as { [key: string]: Json } }] : []),
          {
            name: 'seal',
            mediaType: 'application/vnd.sealed.seal-signature.v1+json',
            annotations: {
              format: seal.format,
              version: seal.version,
              records: seal.records.map((r) => r.type),
              chain_hash: seal.chain_hash,
              public_key: seal.signature.public_key,
              fingerprint: seal.signature.fingerprint,
              signature: seal.signature.value,
            },
          },
        ],
      },
    },
  };
}

function externalSource(source: SourceBody, pkg: PackageBody): { [key: string]: Json } {
  switch (source.kind) {
    case 'index':
      return { kind: 'index', requirement: `${pkg.name}==${pkg.version}`, index_url: source.index_url, filename: source.filename };
    case 'sdist':
      return { kind: 'sdist', filename: source.filename, path: source.path };
    case 'tree':
      return { kind: 'tree', path: source.path, claimed_sdist_sha256: source.claimed_sdist_sha256 };
  }
}

function sourceDependency(source: SourceBody): ResourceDescriptor {
  switch (source.kind) {
    case 'index':
      return { name: source.filename, uri: source.url, digest: { sha256: source.sha256 }, annotations: { role: 'sdist', index_sha256: source.index_sha256, size: source.size } };
    case 'sdist':
      return { name: source.filename, uri: pathToFileURL(source.path).href, digest: { sha256: source.sha256 }, annotations: { role: 'sdist', size: source.size } };
    case 'tree':
      return {
        name: 'source-tree',
        uri: pathToFileURL(source.path).href,
        // Not a file's SHA-256: Sealed's digest of the tree (docs/seal-format.md), under its own name.
        digest: { sealedTreeSha256: source.tree_sha256, ...(source.git ? { gitCommit: source.git.commit } : {}) },
        annotations: { role: 'source-tree', file_count: source.file_count, git_dirty: source.git?.dirty ?? null, claimed_sdist_sha256: source.claimed_sdist_sha256 },
      };
  }
}
