// The "done when": with SEALED_TPM=swtpm:127.0.0.1:PORT, `sealed build` seals carry a quote that
// `sealed verify-seal` and `tpm2_checkquote` both accept; an explicitly configured TPM that dies or is absent
// stops the build with exit 3 and no seal.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TpmBody } from '../../src/chain/types.js';
import { parseSeal } from '../../src/seal/index.js';
import { evidenceForCheckquote } from '../../src/tpm/index.js';
import { TPM_CC } from '../../src/tpm/constants.js';
import { runCli } from '../helpers/cli.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { writeProject } from '../helpers/projects.js';
import { startSwtpm, type Swtpm } from '../helpers/swtpm.js';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { startProxy } from './proxy.js';

describe('sealed build with SEALED_TPM=swtpm', () => {
  let index: IndexServer;
  let swtpm: Swtpm;
  let work: string;

  before(async () => {
    index = await startIndexServer({ projects: projectsFromFolder(ensureWheelhouse()) });
    swtpm = await startSwtpm();
    work = mkdtempSync(join(tmpdir(), 'sealed-tpm-build-'));
  });
  after(async () => {
    await index?.close();
    await swtpm?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const build = (name: string, setting: string) => {
    const dir = mkdtempSync(join(work, `${name}-`));
    const project = writeProject(dir, { backend: 'flit', name, version: '0.1.0' });
    const out = join(dir, 'out');
    return {
      out,
      run: () => runCli(['--json', '--home', join(dir, 'home'), 'build', project, '-o', out, '--index-url', index.url], { env: { SEALED_TPM: setting }, timeoutMs: 120_000 }),
    };
  };

  it('seals carry a quote that verify-seal and tpm2_checkquote accept', async () => {
    const b = build('tpm-demo', swtpm.setting);
    const res = await b.run();
    assert.equal(res.status, 0, res.stderr + res.stdout);
    const sealPath: string = res.json.seal;
    const seal = parseSeal(readFileSync(sealPath, 'utf8'));
    assert.deepEqual(
      seal.records.map((r) => r.type),
      ['package', 'source', 'environment', 'tpm', 'build', 'artifact'],
    );
    assert.equal((seal.records[2]!.body as { tpm: string }).tpm, 'present');

    const verified = await runCli(['--json', 'verify-seal', sealPath, '--artifact', res.json.wheel]);
    assert.equal(verified.status, 0, verified.stderr + verified.stdout);
    assert.equal(verified.json.tpm, true);

    const files = evidenceForCheckquote(seal.records[3]!.body as TpmBody);
    const dir = join(b.out, 'checkquote');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'ak.pem'), files.akPem);
    writeFileSync(join(dir, 'quote.msg'), files.message);
    writeFileSync(join(dir, 'quote.sig'), files.signature);
    writeFileSync(join(dir, 'pcrs.bin'), files.pcrSerialized);
    const r = spawnSync('tpm2_checkquote', ['-u', 'ak.pem', '-m', 'quote.msg', '-s', 'quote.sig', '-f', 'pcrs.bin', '-g', 'sha256', '-q', files.qualification], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 0, r.stderr + r.stdout);
  });

  it('exits 3 with no seal when swtpm is killed as the quote is taken', async () => {
    const victim = await startSwtpm();
    const proxy = await startProxy(victim.port, (cc) => (cc === TPM_CC.Quote ? { do: 'before', effect: () => victim.signal('SIGKILL') } : { do: 'forward' }));
    try {
      const b = build('tpm-killed', proxy.setting);
      const res = await b.run();
      assert.equal(res.status, 3, res.stderr + res.stdout);
      assert.ok(['TPM_UNAVAILABLE', 'TPM_ERROR'].includes(res.json.error.code), res.json.error.code);
      const sealed = existsSync(b.out) ? readdirSync(b.out).filter((f) => f.endsWith('.seal.json')) : [];
      assert.deepEqual(sealed, []);
    } finally {
      await proxy.close();
      await victim.stop();
    }
  });

  it('exits 3 with no seal, before building, when the configured swtpm is not there', async () => {
    const gone = await startSwtpm();
    const setting = gone.setting;
    await gone.stop();
    const b = build('tpm-absent', setting);
    const started = performance.now();
    const res = await b.run();
    assert.equal(res.status, 3, res.stderr + res.stdout);
    assert.equal(res.json.error.code, 'TPM_UNAVAILABLE');
    assert.ok(performance.now() - started < 10_000);
    assert.ok(!existsSync(b.out) || readdirSync(b.out).every((f) => !f.endsWith('.seal.json')));
  });
});
