// The shared seal cache (issue #19): content-addressed wheels and seals on untrusted storage, one
// append-only transparency log per signer (RFC 6962, C2SP tlog-tiles, signed-note checkpoints), and
// every check on the client. The layout is in docs/cache.md.
export { openStore, type CacheStore, type StoreOptions } from './store.js';
export { initCache, type InitReport } from './init.js';
export { pushSeals, type PushItem, type PushReport, type PushSigner } from './push.js';
export { auditCache, type LogAudit, type AuditOptions } from './audit.js';
export { CheckpointPins } from './pins.js';
