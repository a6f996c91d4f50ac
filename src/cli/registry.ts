// The command table. Modules load lazily so `sealed show` does not pay for the build machinery at start.
import type { Command } from './command.js';

export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<Command>;
}

export const COMMANDS: CommandEntry[] = [
  { name: 'install', summary: 'resolve with pip, build every package from its sdist, seal, check trust, install the sealed wheels', load: async () => (await import('./commands/install.js')).command },
  { name: 'build', summary: 'build and seal a wheel from an sdist, a source folder or name==version', load: async () => (await import('./commands/build.js')).command },
  { name: 'verify', summary: 'check packages Sealed installed: seals, trust, stored wheels, installed files', load: async () => (await import('./commands/verify.js')).command },
  { name: 'verify-seal', summary: 'check one seal file offline (and its artifact)', load: async () => (await import('./commands/verify-seal.js')).command },
  { name: 'attest', summary: 'a seal as an in-toto / SLSA provenance attestation (DSSE, Sigstore bundle) or an in-toto link', load: async () => (await import('./commands/attest.js')).command },
  { name: 'show', summary: 'seals of a package: signers, records, environment, artifact, pins', load: async () => (await import('./commands/show.js')).command },
  { name: 'env', summary: 'the environment measurement a build here would record', load: async () => (await import('./commands/env.js')).command },
  { name: 'key show', summary: 'your public key and its fingerprint', load: async () => (await import('./commands/key.js')).show },
  { name: 'key generate', summary: 'make a new signing key (--force to replace one)', load: async () => (await import('./commands/key.js')).generate },
  { name: 'key encrypt', summary: 'encrypt the plaintext key file in place with a passphrase', load: async () => (await import('./commands/key.js')).encrypt },
  { name: 'registry list', summary: 'seals in the registry', load: async () => (await import('./commands/registry.js')).list },
  { name: 'registry pins', summary: 'trust-on-first-use pins', load: async () => (await import('./commands/registry.js')).pins },
  { name: 'registry export', summary: 'write seals, pins and revocations to a file for sharing', load: async () => (await import('./commands/registry.js')).exportCommand },
  { name: 'registry import', summary: 'read an export (all or nothing)', load: async () => (await import('./commands/registry.js')).importCommand },
  { name: 'registry revoke', summary: 'revoke a key: its pins go, its seals count for nothing', load: async () => (await import('./commands/registry.js')).revoke },
  { name: 'policy show', summary: 'the accept policy', load: async () => (await import('./commands/policy.js')).show },
  { name: 'policy set', summary: 'set --min-signatures N or --trusted-keys FILE', load: async () => (await import('./commands/policy.js')).set },
  { name: 'tpm status', summary: 'whether a TPM is reachable and what a quote would cover', load: async () => (await import('./commands/tpm.js')).status },
  { name: 'compare', summary: 'seals side by side: same source, same artifact, which wheel members and recorded facts differ', load: async () => (await import('./commands/compare.js')).command },
  { name: 'rebuild', summary: 'build a sealed release again from the same source; say whether the wheel is identical', load: async () => (await import('./commands/rebuild.js')).command },
  { name: 'cache init', summary: 'prepare a shared seal cache (s3://, file://)', load: async () => (await import('./commands/cache.js')).init },
  { name: 'cache push', summary: 'publish your seals and wheels to a cache and its transparency log', load: async () => (await import('./commands/cache.js')).push },
  { name: 'cache verify', summary: 'audit a cache: checkpoints, consistency, inclusion, seals, wheels', load: async () => (await import('./commands/cache.js')).verify },
  { name: 'backend-build', summary: '(used by the sealed-backend PEP 517 shim) build and seal one wheel', load: async () => (await import('./commands/backend-build.js')).command },
  { name: 'backend-hook', summary: '(used by the sealed-backend PEP 517 shim) run one of the other backend hooks in the sandbox', load: async () => (await import('./commands/backend-hook.js')).command },
];
