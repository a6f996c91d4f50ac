import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decide, describeSandbox, sandboxShortfall, sandboxOfBuild, type SignerEvidence } from '../../src/policy/index.js';
import type { SandboxRecord } from '../../src/sandbox/index.js';
import { hex64 } from '../helpers/seals.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../../src/registry/index.js';

const BWRAP: SandboxRecord = { kind: 'bwrap', version: 'bubblewrap 0.8.0', network_cut: true };
const UID: SandboxRecord = { kind: 'uid', version: null, network_cut: false };
const NONE: SandboxRecord = { kind: 'none', version: null, network_cut: false };

function ev(k: string, sandbox: SandboxRecord | null): SignerEvidence {
  return { name: 'demo', version: '1.0', sourceSha256: hex64('src'), fingerprint: `sha256:${hex64(k)}`, publicKey: `ed25519:${hex64(`pk${k}`)}`, chainHash: hex64(`c${k}`), sandbox };
}

describe('the sandbox a policy requires', () => {
  it('when bwrap is required, only a bwrap build with the network cut meets it', () => {
    assert.equal(sandboxShortfall('bwrap', BWRAP), null);
    assert.match(sandboxShortfall('bwrap', UID)!, /requires bwrap/);
    assert.match(sandboxShortfall('bwrap', NONE)!, /requires bwrap/);
    assert.match(sandboxShortfall('bwrap', { ...BWRAP, network_cut: false })!, /network open/);
    assert.match(sandboxShortfall('bwrap', null)!, /does not say/);
  });

  it('when uid is required, bwrap and uid meet it and none does not', () => {
    assert.equal(sandboxShortfall('uid', BWRAP), null);
    assert.equal(sandboxShortfall('uid', UID), null);
    assert.notEqual(sandboxShortfall('uid', NONE), null);
  });

  it('when nothing is required, every seal meets it, old ones included', () => {
    for (const r of [BWRAP, UID, NONE, null]) {
      assert.equal(sandboxShortfall(null, r), null);
      assert.equal(sandboxShortfall('none', r), null);
    }
  });

  it('when the policy requires bwrap, decide refuses a seal built without it with SANDBOX_REQUIRED', () => {
    const input = { name: 'demo', version: '1.0', sourceSha256: hex64('src'), pins: [], revoked: new Set<string>() };
    const refused = decide({ ...input, seals: [ev('a', NONE)], policy: { minSignatures: 1, trustedKeys: null, requireSandbox: 'bwrap' } });
    assert.equal(refused.accepted, false);
    assert.equal(refused.error?.code, 'SANDBOX_REQUIRED');
    assert.deepEqual(refused.results.map((r) => r.status), ['weak-sandbox']);
    assert.deepEqual(refused.pins, []);
    // The same seal without the requirement is accepted: the refusal above is the policy's doing.
    assert.equal(decide({ ...input, seals: [ev('a', NONE)], policy: { minSignatures: 1, trustedKeys: null } }).accepted, true);
    const mixed = decide({ ...input, seals: [ev('a', NONE), ev('b', BWRAP)], policy: { minSignatures: 1, trustedKeys: null, requireSandbox: 'bwrap' } });
    assert.equal(mixed.accepted, true);
    assert.deepEqual(mixed.counted, [`sha256:${hex64('b')}`]);
  });

  it('reads a stored build record leniently and describes it for people', () => {
    assert.deepEqual(sandboxOfBuild({ sandbox: BWRAP }), BWRAP);
    assert.equal(sandboxOfBuild({}), null);
    assert.equal(sandboxOfBuild({ sandbox: { kind: 'chroot', network_cut: true } }), null);
    assert.equal(sandboxOfBuild(null), null);
    assert.equal(describeSandbox(BWRAP), 'bwrap (bubblewrap 0.8.0), network cut');
    assert.equal(describeSandbox(NONE), 'none, network open');
    assert.match(describeSandbox(null), /not recorded/);
  });
});

describe('the stored sandbox requirement', () => {
  it('is kept in the registry, read back with the policy, and removed by none', () => {
    const home = join(mkdtempSync(join(tmpdir(), 'sealed-policy-sandbox-')), 'home');
    const reg = Registry.open(home);
    try {
      assert.equal(reg.policy().requireSandbox, undefined);
      assert.equal(reg.setPolicy({ requireSandbox: 'bwrap' }).requireSandbox, 'bwrap');
      assert.equal(reg.policy().minSignatures, 1, 'the other settings stay as they were');
      assert.equal(reg.setPolicy({ minSignatures: 2 }).requireSandbox, 'bwrap');
      assert.equal(reg.setPolicy({ requireSandbox: 'none' }).requireSandbox, undefined);
    } finally {
      reg.close();
    }
  });
});
