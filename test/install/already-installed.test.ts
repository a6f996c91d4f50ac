import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { fixtureSdist } from '../helpers/projects.js';
import { runCli } from '../helpers/cli.js';
import { splitSatisfied } from '../../src/install/pip-resolve.js';

const pexec = promisify(execFile);
let index: IndexServer;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-already-'));
  const projects = projectsFromFolder(ensureWheelhouse());
  const sdist = await fixtureSdist(join(work, 'fixtures'), { backend: 'flit', name: 'demo-again', version: '1.0.0' });
  projects['demo-again'] = [{ filename: sdist.split('/').pop()!, path: sdist }];
  index = await startIndexServer({ projects });
});
after(async () => index?.close());

describe('splitSatisfied', () => {
  it('names as sealed only what the registry recorded for that environment, by normalized name', () => {
    const got = splitSatisfied(['Demo_Again', 'pluggy', 'demo-again'], [{ name: 'demo-again', version: '1.0.0' }]);
    assert.deepEqual(got, { sealed: [{ name: 'demo-again', version: '1.0.0' }], notSealed: ['pluggy'] });
  });
});

describe('when a requested project is already installed', () => {
  it('says "sealed by Sealed" for what Sealed installed, and "not sealed" only for what pip installed', async () => {
    const dir = mkdtempSync(join(work, 'venv-'));
    execFileSync('python3', ['-m', 'venv', join(dir, 'venv')]);
    const python = join(dir, 'venv', 'bin', 'python');
    const home = join(dir, 'home');
    const install = (json: boolean, ...reqs: string[]) =>
      runCli([...(json ? ['--json'] : []), '--home', home, 'install', ...reqs, '--index-url', index.url, '--python', python], { env: { SEALED_SANDBOX: 'none' } });

    const first = await install(true, 'demo-again');
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.json.installed, true);
    // Piped, as in CI: a line per stage on stderr, while stdout stays one JSON document.
    for (const stage of [/demo-again 1\.0\.0: fetched demo_again-1\.0\.0\.tar\.gz/, /demo-again 1\.0\.0: verified sha256 [0-9a-f]{16}… matches the index/, /demo-again 1\.0\.0: built in \d+\.\d s/, /demo-again 1\.0\.0: sealed by /, /demo-again 1\.0\.0: installed into /]) {
      assert.match(first.stderr, stage);
    }
    // pluggy from the index's wheel, by pip itself: not Sealed's.
    // Not execFileSync: the index server answers from this process's event loop.
    await pexec(python, ['-m', 'pip', 'install', '-q', '--index-url', index.url, 'pluggy'], { env: { ...process.env, PIP_CONFIG_FILE: '/dev/null', PIP_FIND_LINKS: '', PIP_EXTRA_INDEX_URL: '' } });

    const again = await install(true, 'demo-again', 'pluggy');
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(again.json.not_sealed_by_sealed, ['pluggy']);
    assert.deepEqual(again.json.already_sealed, [{ name: 'demo-again', version: '1.0.0' }]);

    const human = await install(false, 'demo-again', 'pluggy');
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, /already installed and sealed by Sealed: demo-again 1\.0\.0/);
    assert.match(human.stdout, /already installed, not sealed by Sealed: pluggy\n/);

    const other = join(dir, 'other');
    execFileSync('python3', ['-m', 'venv', other]);
    const reuse = await runCli(['--json', '--home', home, 'install', 'demo-again', '--index-url', index.url, '--python', join(other, 'bin', 'python')], { env: { SEALED_SANDBOX: 'none' } });
    assert.equal(reuse.status, 0, reuse.stderr);
    assert.match(reuse.stderr, /demo-again 1\.0\.0: reused the stored seal by /);
    assert.doesNotMatch(reuse.stderr, /built in/);
  });
});
