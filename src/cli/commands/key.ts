// `sealed key show | generate | encrypt`: thin over src/signer, which alone touches key material.
import type { Command, Context } from '../command.js';
import { boolOption } from '../command.js';
import { fingerprintOf, formatPublicKey } from '../../seal/index.js';
import { describeKey, encryptKey, generateKey, type KeyDescription, type SignerOptions } from '../../signer/index.js';

const KIND_TEXT = { file: 'plaintext key file', 'encrypted-file': 'encrypted key file (passphrase)', pkcs11: 'PKCS #11 token key' } as const;

// --key-uri is a global option (src/cli/run.ts): it reaches these commands as SEALED_KEY in ctx.env.
function options(ctx: Context): SignerOptions {
  return { home: ctx.home(), env: ctx.env, cwd: ctx.cwd };
}

function data(d: KeyDescription): Record<string, unknown> {
  return {
    kind: d.kind,
    public_key: formatPublicKey(d.publicKey),
    fingerprint: fingerprintOf(d.publicKey),
    // `path` kept for scripts written against earlier versions (the key file).
    ...(d.kind === 'pkcs11' ? { uri: d.location, token: d.token ?? null } : { path: d.location }),
    ...(d.kdf ? { kdf: d.kdf } : {}),
  };
}

function render(d: KeyDescription, first?: string): string {
  const lines = first ? [first] : [];
  lines.push(`kind:        ${KIND_TEXT[d.kind]}`, `public key:  ${formatPublicKey(d.publicKey)}`, `fingerprint: ${fingerprintOf(d.publicKey)}`);
  if (d.kind === 'pkcs11') {
    lines.push(`key uri:     ${JSON.stringify(d.location)}`);
    if (d.token) lines.push(`token:       ${JSON.stringify(d.token.label)} (${JSON.stringify(d.token.manufacturer)} ${JSON.stringify(d.token.model)}, serial ${JSON.stringify(d.token.serial)})`);
  } else lines.push(`key file:    ${d.location}`);
  if (d.kdf) lines.push(`kdf:         scrypt N=2^${d.kdf.log_n} r=${d.kdf.r} p=${d.kdf.p}`);
  return lines.join('\n');
}

export const show: Command = {
  name: 'key show',
  usage: 'key show [--key-uri URI] [--json]',
  summary:
    'Prints which kind of key signs (plaintext file, encrypted file, token), its public key (ed25519:<hex>) and SHA-256 fingerprint. Unlocks nothing: an encrypted file\'s public key is in its header, a token\'s is read from its public object. Creates the default key file on first use.',
  options: {},
  async run(ctx) {
    const d = await describeKey(options(ctx));
    ctx.out.result(data(d), () => render(d));
  },
};

export const generate: Command = {
  name: 'key generate',
  usage: 'key generate [--force] [--encrypt] [--key-uri URI] [--json]',
  summary:
    'Makes a new Ed25519 signing key: a plaintext key file (0600) by default; --encrypt protects it with a passphrase (scrypt + AES-256-GCM; from SEALED_KEY_PASSPHRASE_FILE, SEALED_KEY_PASSPHRASE or a prompt); --key-uri pkcs11:... creates a non-extractable key on a PKCS #11 token. Refuses to replace an existing key without --force.',
  options: { force: { type: 'boolean' }, encrypt: { type: 'boolean' } },
  async run(ctx, args) {
    const d = await generateKey({ ...options(ctx), force: boolOption(args, 'force'), encrypt: boolOption(args, 'encrypt') });
    ctx.out.result(data(d), () => render(d, d.kind === 'pkcs11' ? 'new key created on the token' : `new key written to ${d.location}`));
  },
};

export const encrypt: Command = {
  name: 'key encrypt',
  usage: 'key encrypt [--key-uri file:PATH] [--json]',
  summary:
    'Encrypts the plaintext key file in place with a passphrase (from SEALED_KEY_PASSPHRASE_FILE, SEALED_KEY_PASSPHRASE or a prompt). The encrypted file is written, read back and checked before it replaces the plaintext one; the public key stays the same.',
  options: {},
  async run(ctx) {
    const d = await encryptKey(options(ctx));
    ctx.out.result(data(d), () => render(d, `key encrypted in place: ${d.location}`));
  },
};
