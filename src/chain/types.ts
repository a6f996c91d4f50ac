// The records a seal carries, in the order they are chained. Field names are snake_case because they
// are the on-disk format (docs/seal-format.md); the JSON Schema in schemas/ is the authority for shape.

export const SEAL_FORMAT = 'sealed-seal';
export const SEAL_VERSION = 1;

export interface PackageBody {
  name: string; // PEP 503 normalized
  version: string;
  index_url: string | null;
}

export type SourceBody =
  | {
      kind: 'index';
      filename: string;
      url: string;
      index_url: string;
      index_sha256: string;
      sha256: string;
      size: number;
    }
  | {
      kind: 'sdist';
      filename: string;
      path: string;
      sha256: string;
      size: number;
    }
  | {
      kind: 'tree';
      path: string;
      tree_sha256: string;
      file_count: number;
      git: { commit: string; dirty: boolean } | null;
      claimed_sdist_sha256: string | null;
    };

export interface ToolMeasurement {
  name: string;
  path: string;
  version: string;
  sha256: string;
}

export interface EnvironmentBody {
  python: { path: string; version: string; implementation: string; sha256: string };
  pip_version: string | null;
  kernel: { release: string; version: string };
  os_release: Record<string, string>;
  cpu_arch: string;
  libc: { name: string; version: string } | null;
  compilers: ToolMeasurement[];
  /** Allowlisted build-affecting variables; secret-looking ones hold {"present": true}. */
  env_vars: Record<string, string | { present: true }>;
  tpm: 'present' | 'absent';
  /** What kind of key signed the seal (absent in seals made before Sealed recorded it). */
  signer?: SignerBody;
}

/** The signing key's kind; a token key also names the token's manufacturer and model (as the token reports them). */
export type SignerBody = { kind: 'file' } | { kind: 'encrypted-file' } | { kind: 'pkcs11'; manufacturer: string; model: string };

export interface PcrValue {
  index: number;
  sha256: string;
}

export interface TpmBody {
  /** Where the evidence came from: "device:/dev/tpmrm0" or "swtpm:HOST:PORT". */
  transport: string;
  /** TPM_PT_MANUFACTURER as text ("IFX", "INTC", "IBM" for swtpm). */
  manufacturer: string;
  /** TPM_PT_VENDOR_STRING_1..4 ("SW TPM" for swtpm). */
  vendor: string;
  /** TPM_PT_FIRMWARE_VERSION_1 and _2 as four 16-bit numbers; the quote signs the same value. */
  firmware_version: string;
  pcr_bank: 'sha256';
  /** Ascending by index; PCRs 0-7 always. */
  pcrs: PcrValue[];
  /** Hex of TPM2B_PUBLIC contents (TPMT_PUBLIC) of the attestation key. */
  attestation_key_public: string;
  /** Hex of the attestation key's Name (nameAlg || hash of its TPMT_PUBLIC). */
  attestation_key_name: string;
  /** Hex of TPMS_ATTEST as returned by TPM2_Quote. */
  quote: string;
  /** Hex of the marshalled TPMT_SIGNATURE. */
  quote_signature: string;
  /** The quote's extraData: derived from the chain of the records before the TPM record. */
  qualifying_data: string;
  /** Hex of the endorsement key's TPMT_PUBLIC when the platform keeps it at its TCG handle, else null. */
  endorsement_key_public: string | null;
  /** Hex of the endorsement key's DER certificate when it is in its TCG NV index, else null. */
  endorsement_key_certificate: string | null;
}

export interface BuildRequirement {
  name: string;
  version: string;
  sha256: string | null;
  url: string | null;
}

export interface BuildBody {
  backend: string;
  backend_path: string[] | null;
  build_system_requires: string[];
  requirements: BuildRequirement[];
  python: { path: string; version: string; sha256: string };
  config_settings: Record<string, string | string[]> | null;
  started_at: string;
  finished_at: string;
  result: 'success';
  /** Where the backend's hooks ran (absent in seals made before the build sandbox: read as unknown). */
  sandbox?: { kind: 'bwrap' | 'uid' | 'none'; version: string | null; network_cut: boolean };
  /** The reproducibility settings the build ran with (absent in seals made before they existed). */
  reproducible?: ReproducibleBody;
}

/** What a rebuilder repeats (docs/reproducible.md). */
export interface ReproducibleBody {
  /** Seconds since 1970: the sdist's newest member time; for a source folder the user's SOURCE_DATE_EPOCH, else the zip epoch. */
  source_date_epoch: number;
  source_date_epoch_from: 'sdist-newest-member' | 'environment' | 'default';
  /** Octal, four digits: "0022". */
  umask: string;
  pythonhashseed: string;
  tz: string;
  locale: string;
  /** The fixed path the build folder appears as in compiled output. */
  build_path: string;
  /** Whether CFLAGS/CXXFLAGS carried -ffile-prefix-map=<real build folder>=<build_path>. */
  file_prefix_map: boolean;
  /** "normalized": the extracted sdist's files were set to 0644/0755, its folders to 0755; "as-found": a source folder, left alone. */
  tree_modes: 'normalized' | 'as-found';
}

export interface ArtifactBody {
  filename: string;
  sha256: string;
  size: number;
}

export type RecordInput =
  | { type: 'package'; body: PackageBody }
  | { type: 'source'; body: SourceBody }
  | { type: 'environment'; body: EnvironmentBody }
  | { type: 'tpm'; body: TpmBody }
  | { type: 'build'; body: BuildBody }
  | { type: 'artifact'; body: ArtifactBody };

export type RecordType = RecordInput['type'];

export type LinkedRecord = RecordInput & { link: string };

/** The order records must appear in; `tpm` is optional. */
export const RECORD_ORDER: readonly RecordType[] = ['package', 'source', 'environment', 'tpm', 'build', 'artifact'];
