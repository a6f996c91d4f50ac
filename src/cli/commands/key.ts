import type { Command } from '../command.js';
import { boolOption } from '../command.js';
import { fingerprintOf, formatPublicKey, generateSigningKey, loadSigningKey } from '../../seal/index.js';

export const show: Command = {
  name: 'key show',
  usage: 'key show [--json]',
  summary: 'Prints your public key (ed25519:<hex>) and its SHA-256 fingerprint; creates the key on first use. Never prints the private key.',
  options: {},
  async run(ctx) {
    const key = loadSigningKey(ctx.home());
    const data = { public_key: formatPublicKey(key.publicKey), fingerprint: fingerprintOf(key.publicKey), path: key.path };
    ctx.out.result(data, () => `public key:  ${data.public_key}\nfingerprint: ${data.fingerprint}\nkey file:    ${data.path}`);
  },
};

export const generate: Command = {
  name: 'key generate',
  usage: 'key generate [--force]',
  summary: 'Makes a new Ed25519 signing key (0600). Refuses to replace an existing key without --force.',
  options: { force: { type: 'boolean' } },
  async run(ctx, args) {
    const key = generateSigningKey(ctx.home(), boolOption(args, 'force'));
    const data = { public_key: formatPublicKey(key.publicKey), fingerprint: fingerprintOf(key.publicKey), path: key.path };
    ctx.out.result(data, () => `new key written to ${data.path}\npublic key:  ${data.public_key}\nfingerprint: ${data.fingerprint}`);
  },
};
