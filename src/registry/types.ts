import type { Seal, SealSummary } from '../seal/index.js';

export type PinOrigin = 'tofu' | 'import';
export type SealOrigin = 'local' | 'import';
export type RevocationOrigin = 'local' | 'import';

/** A key pinned to a package (by first use, or from a teammate's export). */
export interface Pin {
  name: string;
  fingerprint: string;
  publicKey: string;
  created: string;
  origin: PinOrigin;
}

export interface Revocation {
  fingerprint: string;
  /** Null when the key was revoked by fingerprint and no seal or pin here names its public key. */
  publicKey: string | null;
  revokedAt: string;
  origin: RevocationOrigin;
}

/** The indexed columns of a stored seal: what listing and `sealed show` need, without parsing the seal. */
export interface SealRow {
  chainHash: string;
  name: string;
  version: string;
  sourceSha256: string;
  artifactSha256: string;
  artifactFilename: string;
  fingerprint: string;
  publicKey: string;
  hasTpm: boolean;
  /** The build record's finished_at. */
  builtAt: string;
  /** When this registry stored it. */
  storedAt: string;
  origin: SealOrigin;
}

/** A stored seal, parsed and summarized. It passed verifySeal when stored; verify again before trusting it. */
export interface StoredSeal {
  seal: Seal;
  summary: SealSummary;
  storedAt: string;
  origin: SealOrigin;
}

export interface Installation {
  /** The environment's prefix (sys.prefix of the target Python). */
  prefix: string;
  name: string;
  version: string;
  chainHash: string;
  /** The signer of the installed seal. */
  fingerprint: string;
  /** The interpreter used to install. */
  python: string;
  installedAt: string;
}

export interface RegistryCounts {
  seals: number;
  packages: number;
  pins: number;
  revoked: number;
}
