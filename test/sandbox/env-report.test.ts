// `sealed env` reports the build sandbox: the default kind, bwrap's path and version, whether it can
// make its namespaces here, and that a hook inside sees no network interface but loopback. The refusal
// is the one bwrap gives where user namespaces are refused (simulated by a wrapper, as in
// unavailable.test.ts).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const REFUSAL = 'bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces.';

describe('sealed env and the sandbox', () => {
  it('when bwrap works here, it says bwrap is the default, names its path and version, and that the network is cut', async () => {
    const res = await runCli(['--json', 'env'], { env: { SEALED_HOME: mkdtempSync(join(tmpdir(), 'sealed-envsb-')) } });
    assert.equal(res.status, 0, res.stderr);
    const s = res.json.sandbox;
    assert.equal(s.default, 'bwrap');
    assert.equal(s.bwrap.path, execFileSync('sh', ['-c', 'command -v bwrap'], { encoding: 'utf8' }).trim());
    assert.equal(s.bwrap.version, execFileSync('bwrap', ['--version'], { encoding: 'utf8' }).trim());
    assert.deepEqual(s.bwrap.namespaces, { ok: true });
    assert.deepEqual(s.bwrap.interfaces, ['lo']);
    assert.equal(s.bwrap.network_cut, true);
    assert.equal(s.uid.network_cut, false);
    const human = await runCli(['env'], { env: { SEALED_HOME: mkdtempSync(join(tmpdir(), 'sealed-envsb-')) } });
    assert.match(human.stdout, /network: cut \(only loopback inside\)/);
  });

  it('when bwrap cannot make namespaces, it gives bwrap\'s cause; SEALED_SANDBOX changes the default', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'sealed-envsb-bin-'));
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'bwrap'), `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "bubblewrap 0.8.0"; exit 0; fi\necho ${JSON.stringify(REFUSAL)} >&2\nexit 1\n`);
    chmodSync(join(bin, 'bwrap'), 0o755);
    const res = await runCli(['--json', 'env'], {
      env: { SEALED_HOME: mkdtempSync(join(tmpdir(), 'sealed-envsb-')), PATH: [bin, process.env.PATH ?? ''].join(delimiter), SEALED_SANDBOX: 'none' },
    });
    assert.equal(res.status, 0, res.stderr);
    const s = res.json.sandbox;
    assert.equal(s.default, 'none');
    assert.equal(s.bwrap.path, join(bin, 'bwrap'));
    assert.deepEqual(s.bwrap.namespaces, { ok: false, cause: REFUSAL });
    assert.equal(s.bwrap.network_cut, null);
  });
});
