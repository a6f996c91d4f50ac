// After a key rotation with the old seal still stored, a fresh build by the new key is refused as
// KEY_CHANGED (with the changed key and the revoke command), not as an unexplained UNTRUSTED_SIGNER.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { fixtureSdist } from '../helpers/projects.js';
import { runCli } from '../helpers/cli.js';
import { wheelStorePath } from '../../src/registry/index.js';
import { makeVenv } from '../helpers/venv.js';

let index: IndexServer;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-rotation-'));
  const projects = projectsFromFolder(ensureWheelhouse());
  const sdist = await fixtureSdist(join(work, 'fixtures'), { backend: 'flit', name: 'demo-rot', version: '1.0.0' });
  projects['demo-rot'] = [{ filename: sdist.split('/').pop()!, path: sdist }];
  index = await startIndexServer({ projects });
});
after(async () => {
  await index?.close();
  rmSync(work, { recursive: true, force: true });
});

const venv = (label: string) => makeVenv(work, label);

describe('sealed install after a key rotation', () => {
  it('refuses the new build as KEY_CHANGED, naming the pinned and new keys and the revoke command', async () => {
    const home = join(work, 'home');
    const install = (python: string) => runCli(['--json', '--home', home, 'install', 'demo-rot', '--index-url', index.url, '--python', python]);
    const first = await install(venv('a'));
    assert.equal(first.status, 0, first.stdout + first.stderr);
    const old = (await runCli(['--json', '--home', home, 'key', 'show'])).json.fingerprint as string;
    assert.equal((await runCli(['--json', '--home', home, 'key', 'generate', '--force'])).status, 0);
    const fresh = (await runCli(['--json', '--home', home, 'key', 'show'])).json.fingerprint as string;
    // The old seal stays, its stored wheel goes: the next install builds afresh with the new key.
    const [seal] = (await runCli(['--json', '--home', home, 'registry', 'list'])).json.seals as { artifact: { sha256: string; filename: string } }[];
    rmSync(wheelStorePath(home, seal!.artifact.sha256, seal!.artifact.filename));
    const second = await install(venv('b'));
    assert.equal(second.status, 1, second.stdout + second.stderr);
    const error = second.json.error;
    assert.equal(error.code, 'KEY_CHANGED');
    assert.deepEqual([error.pinned, error.new], [[old], [fresh]]);
    assert.ok(String(error.hint).includes(`sealed registry revoke --key ${old}`), error.hint);
  });
});
