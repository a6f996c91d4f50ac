// Real PyPI sdists built by two builders (two homes, umasks 0022 and 0077) and then rebuilt: byte-identical
// wheels. Needs the network: runs by default (test/run.mjs sets SEALED_TEST_NETWORK=1, as CI does);
// SEALED_TEST_NETWORK=0 leaves it out offline.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { runCliWithUmask } from './helpers.js';

const network = process.env.SEALED_TEST_NETWORK !== '0';
const PYPI = 'https://pypi.org/simple/';
const ENV = { PIP_CONFIG_FILE: '/dev/null', PIP_FIND_LINKS: '', PIP_EXTRA_INDEX_URL: '' };

describe('real PyPI sdists built by two builders and rebuilt (network)', { skip: !network && 'SEALED_TEST_NETWORK=0' }, () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'sealed-repro-pypi-'));
  });

  // A setuptools project, a flit-core one, and a C extension.
  for (const req of ['six==1.16.0', 'idna==3.7', 'markupsafe==2.1.5']) {
    it(`${req}: identical from two homes, and a rebuild reproduces it`, async () => {
      const shas: string[] = [];
      const seals: string[] = [];
      for (const [id, umask] of [['a', '0022'], ['b', '0077']] as const) {
        const res = await runCliWithUmask(umask, ['--json', '--home', join(work, id), 'build', req, '--index-url', PYPI, '-o', join(work, `out-${id}`)], ENV);
        assert.equal(res.status, 0, res.stderr);
        shas.push(res.json.artifact.sha256);
        seals.push(res.json.seal);
      }
      assert.equal(shas[0], shas[1]);
      const cmp = await runCli(['--json', '--home', join(work, 'a'), 'compare', seals[0]!, seals[1]!]);
      assert.equal(cmp.json.same_artifact, true, JSON.stringify(cmp.json?.pairs?.[0]?.explanation));
      const again = await runCli(['--json', '--home', join(work, 'b'), 'rebuild', req, '--index-url', PYPI], { env: ENV });
      assert.equal(again.status, 0, again.stderr);
      assert.equal(again.json.identical, true);
    });
  }
});
