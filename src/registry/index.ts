// The seal registry (SQLite in SEALED_HOME/registry.db) and the content-addressed wheel store.
// Queries that must start fast (`sealed show`) import RegistryReader from './reader.js' directly: this
// file also loads seal verification, which costs tens of milliseconds at start.
export { Registry, type RegistryOptions, type RevokeResult, type PolicyChange, type PinConflict, type ImportReport, type ImportOptions, type ExportOptions, type ExportResult } from './registry.js';
export { signStatement, statementMessage, statementSigner, type StatementSigner, type StatementSignature } from './statements.js';
export { homeStatementSigner } from './home-signer.js';
export { RegistryReader } from './reader.js';
export { registryPath, REGISTRY_FILE, SCHEMA_VERSION, BUSY_TIMEOUT_MS } from './db.js';
export { wheelStorePath, wheelsDir } from './wheels.js';
export {
  parseExport,
  readExportFile,
  planImport,
  checkSeal,
  assemblePlan,
  rejectionError,
  describeRejection,
  EXPORT_FORMAT,
  EXPORT_VERSION,
  EXPORT_SCHEMA,
  MAX_EXPORT_BYTES,
  MAX_EXPORT_CONTAINERS,
  type ExportDocument,
  type ExportPin,
  type ExportRevocation,
  type ImportPlan,
  type Rejection,
  type VerifiedSeal,
  type SealCheck,
} from './exchange.js';
export { planImportParallel, type ParallelOptions } from './verify-pool.js';
export type { Pin, PinOrigin, Revocation, SealRow, StoredSeal, Installation, SealOrigin, RegistryCounts } from './types.js';
export type { PolicySettings, Decision } from '../policy/decide.js';
