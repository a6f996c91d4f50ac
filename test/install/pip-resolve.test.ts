// pip resolves; a verdict pip reaches first (an sdist that does not match the index's sha256) is reported
// as Sealed's own verdict: DIGEST_MISMATCH, exit 1, with expected and found.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { fixtureSdist } from '../helpers/projects.js';
import { runCli } from '../helpers/cli.js';
import { parsePipHashMismatch } from '../../src/install/pip-errors.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let index: IndexServer;
let work: string;
let genuine: Buffer;
let tampered: Buffer;
const cleanPip = { ...process.env, PIP_CONFIG_FILE: '/dev/null', PIP_FIND_LINKS: '', PIP_EXTRA_INDEX_URL: '' };

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-pip-resolve-'));
  const projects = projectsFromFolder(ensureWheelhouse());
  const good = await fixtureSdist(join(work, 'good'), { backend: 'flit', name: 'demo-tampered', version: '1.0.0' });
  const evil = await fixtureSdist(join(work, 'evil'), { backend: 'flit', name: 'demo-tampered', version: '1.0.0', dependencies: ['changed-after-listing'] });
  genuine = readFileSync(good);
  tampered = readFileSync(evil);
  // The index lists the genuine sdist's sha256 but serves other bytes (a compromised file host).
  projects['demo-tampered'] = [{ filename: good.split('/').pop()!, content: genuine, servedContent: tampered }];
  index = await startIndexServer({ projects });
});
after(async () => {
  await index?.close();
});

describe('when the index serves an sdist that does not match its listed sha256', () => {
  it('refuses with DIGEST_MISMATCH (exit 1) naming expected and found, and installs nothing', async () => {
    assert.notEqual(sha(genuine), sha(tampered), 'the fixture really is tampered');
    const dir = join(mkdtempSync(join(work, 'venv-')), 'venv');
    execFileSync('python3', ['-m', 'venv', dir]);
    const python = join(dir, 'bin', 'python');
    const before = execFileSync(python, ['-m', 'pip', 'freeze', '--all'], { encoding: 'utf8', env: cleanPip });
    const res = await runCli(['--json', '--home', join(work, 'home'), 'install', '--index-url', index.url, '--python', python, 'demo-tampered==1.0.0']);
    assert.equal(res.status, 1, res.stderr);
    assert.equal(res.json.error.code, 'DIGEST_MISMATCH');
    assert.equal(res.json.error.expected, sha(genuine));
    assert.equal(res.json.error.found, sha(tampered));
    assert.equal(execFileSync(python, ['-m', 'pip', 'freeze', '--all'], { encoding: 'utf8', env: cleanPip }), before);
  });
});

describe("parsePipHashMismatch (pip's report)", () => {
  const a = 'a'.repeat(64);
  const b = 'b'.repeat(64);
  it('reads the requirement, the URL without its fragment, expected and found', () => {
    const text = ['ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.', `    demo==1.0 from http://h/files/demo-1.0.tar.gz#sha256=${a}:`, `        Expected sha256 ${a}`, `             Got        ${b}`, ''].join('\n');
    assert.deepEqual(parsePipHashMismatch(text), { requirement: 'demo==1.0 from http://h/files/demo-1.0.tar.gz', url: 'http://h/files/demo-1.0.tar.gz', expected: a, found: b });
  });
  it('when pip failed for another reason, finds nothing', () => {
    assert.equal(parsePipHashMismatch('ERROR: Could not find a version that satisfies the requirement demo (from versions: none)'), null);
  });
  it('when a "Got" line is missing or not a sha256, finds nothing', () => {
    assert.equal(parsePipHashMismatch(`        Expected sha256 ${a}\n             Got        xyz`), null);
  });
});
