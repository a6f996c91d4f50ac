// `sealed policy show` and `sealed policy set`: the accept policy stored in the registry.
import { resolve } from 'node:path';
import type { Command } from '../command.js';
import { boolOption, stringOption } from '../command.js';
import { SealedError } from '../../errors.js';
import { RegistryReader } from '../../registry/reader.js';
import type { PolicySettings } from '../../policy/decide.js';
import type { SandboxRequirement } from '../../policy/sandbox.js';
import type { KeyKind } from '../../policy/key-kind.js';

function policyData(p: PolicySettings): Record<string, unknown> {
  return {
    min_signatures: p.minSignatures,
    trusted_keys: p.trustedKeys ? { source: p.trustedKeys.source, keys: [...p.trustedKeys.keys].map(([fingerprint, public_key]) => ({ fingerprint, public_key })) } : null,
    // Only when set, so the document is unchanged for policies that never asked for a sandbox.
    ...(p.requireSandbox ? { require_sandbox: p.requireSandbox } : {}),
    // Only when set, so the document is unchanged for policies that never asked for a key kind.
    ...(p.requireKeyKind ? { require_key_kind: p.requireKeyKind } : {}),
    // Only when set, so the document of a policy without it stays as it was.
    ...(p.sameArtifact ? { same_artifact: true } : {}),
  };
}

function render(p: PolicySettings): string {
  const lines = [
    `min signatures: ${p.minSignatures} (distinct keys that must have sealed the same name, version and source SHA-256)`,
    p.trustedKeys
      ? `trusted keys:   ${p.trustedKeys.keys.size} from ${p.trustedKeys.source} (only these count; pins are not used)`
      : 'trusted keys:   none (trust on first use: the keys of the first accepted install are pinned per package)',
    `key kind:       ${p.requireKeyKind ? `${p.requireKeyKind} only (seals signed with another kind of key do not count)` : 'any'}`,
    p.sameArtifact ? 'same artifact:  required (the signers must also have built the same wheel SHA-256)' : 'same artifact:  not required (--same-artifact requires it)',
  ];
  for (const [fp, key] of p.trustedKeys?.keys ?? []) lines.push(`  ${fp}  ${key}`);
  lines.push(`sandbox:        ${p.requireSandbox ? `${p.requireSandbox} required of every seal's build` : 'none required'}`);
  return lines.join('\n');
}

export const show: Command = {
  name: 'policy show',
  usage: 'policy show [--json]',
  summary: 'Shows the accept policy: how many distinct signers a package needs, and the trusted-keys roster if one is set.',
  options: {},
  async run(ctx) {
    const reg = RegistryReader.openReader(ctx.home());
    try {
      const p = reg.policy();
      ctx.out.result(policyData(p), () => render(p));
    } finally {
      reg.close();
    }
  },
};

export const set: Command = {
  name: 'policy set',
  usage: 'policy set [--min-signatures N] [--trusted-keys FILE | --clear-trusted-keys] [--require-sandbox bwrap|uid|none] [--require-key-kind file|encrypted-file|pkcs11|any] [--same-artifact | --any-artifact] [--json]',
  summary:
    'Sets the accept policy. --min-signatures N: N >= 1 distinct keys must have sealed the same name, version and source. --trusted-keys FILE: only the ed25519:<hex> keys listed in FILE count (stored in the registry). --clear-trusted-keys: back to trust on first use. --require-sandbox bwrap|uid: only seals whose build ran in that sandbox (or a stronger one) count; none: no requirement. --require-key-kind KIND: only seals whose signer recorded that kind of key count (any: no requirement). --same-artifact: the N signers must also have produced the same wheel SHA-256, and the install takes the wheel they share; --any-artifact: back to agreeing on the source only.',
  options: { 'min-signatures': { type: 'string' }, 'trusted-keys': { type: 'string' }, 'clear-trusted-keys': { type: 'boolean' }, 'require-sandbox': { type: 'string' }, 'require-key-kind': { type: 'string' }, 'same-artifact': { type: 'boolean' }, 'any-artifact': { type: 'boolean' } },
  async run(ctx, args) {
    const minText = stringOption(args, 'min-signatures');
    const rosterPath = stringOption(args, 'trusted-keys');
    const clear = boolOption(args, 'clear-trusted-keys');
    const sandboxText = stringOption(args, 'require-sandbox');
    const kindText = stringOption(args, 'require-key-kind');
    const requireKeyKind = kindText === undefined ? undefined : parseKeyKindOption(kindText);
    const sameArtifact = boolOption(args, 'same-artifact') ? true : boolOption(args, 'any-artifact') ? false : undefined;
    if (boolOption(args, 'same-artifact') && boolOption(args, 'any-artifact')) throw new SealedError('USAGE', '--same-artifact and --any-artifact contradict each other; pass one.');
    if (minText === undefined && rosterPath === undefined && !clear && sandboxText === undefined && kindText === undefined && sameArtifact === undefined) {
      throw new SealedError('USAGE', 'Nothing to set. Pass --min-signatures N, --trusted-keys FILE, --clear-trusted-keys, --require-sandbox KIND, --require-key-kind KIND, --same-artifact or --any-artifact.');
    }
    if (sandboxText !== undefined && !['bwrap', 'uid', 'none'].includes(sandboxText)) {
      throw new SealedError('USAGE', `--require-sandbox takes bwrap, uid or none; got ${JSON.stringify(sandboxText)}.`, { expected: 'bwrap | uid | none', found: sandboxText });
    }
    const requireSandbox = sandboxText as SandboxRequirement | undefined;
    if (rosterPath !== undefined && clear) throw new SealedError('USAGE', '--trusted-keys and --clear-trusted-keys contradict each other; pass one.');
    let minSignatures: number | undefined;
    if (minText !== undefined) {
      if (!/^[0-9]{1,6}$/.test(minText.trim()) || Number(minText) < 1) {
        throw new SealedError('USAGE', `--min-signatures needs a whole number of at least 1; got "${minText}".`, { expected: 'an integer >= 1', found: minText });
      }
      minSignatures = Number(minText);
    }
    const { readTrustedKeysFile } = await import('../../policy/trusted-keys.js');
    const trustedKeys = rosterPath !== undefined ? readTrustedKeysFile(resolve(ctx.cwd, rosterPath), ctx) : clear ? null : undefined;
    const { Registry } = await import('../../registry/index.js');
    const reg = Registry.open(ctx.home());
    let p: PolicySettings;
    try {
      p = reg.setPolicy({
        ...(minSignatures !== undefined ? { minSignatures } : {}),
        ...(trustedKeys !== undefined ? { trustedKeys } : {}),
        ...(requireSandbox !== undefined ? { requireSandbox } : {}),
        ...(requireKeyKind !== undefined ? { requireKeyKind } : {}),
        ...(sameArtifact !== undefined ? { sameArtifact } : {}),
      });
    } finally {
      reg.close();
    }
    if (p.trustedKeys && p.minSignatures > p.trustedKeys.keys.size) {
      ctx.out.warn(`The policy needs ${p.minSignatures} signers but the roster lists only ${p.trustedKeys.keys.size} keys: no package can be accepted until you add keys or lower --min-signatures.`);
    }
    ctx.out.result(policyData(p), () => `policy saved\n${render(p)}`);
  },
};

function parseKeyKindOption(text: string): KeyKind | null {
  if (text === 'any') return null;
  if (text === 'file' || text === 'encrypted-file' || text === 'pkcs11') return text;
  throw new SealedError('USAGE', `--require-key-kind takes file, encrypted-file, pkcs11 or any; got ${JSON.stringify(text)}.`, { expected: 'file | encrypted-file | pkcs11 | any', found: text });
}
