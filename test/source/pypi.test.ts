// Against the real PyPI: needs the network, so it runs only with SEALED_TEST_NETWORK=1 (CI sets it).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findSdist } from '../../src/index/index.js';
import { downloadVerified, extractSdist } from '../../src/source/index.js';

const network = process.env.SEALED_TEST_NETWORK === '1';
const PYPI = 'https://pypi.org/simple/';

/** PyPI's other API (the JSON one), as an independent witness of the sha256 the simple page lists. */
async function pypiJsonSha256(name: string, version: string, filename: string): Promise<string> {
  const res = await fetch(`https://pypi.org/pypi/${name}/json`);
  assert.equal(res.status, 200);
  const doc = (await res.json()) as { releases: Record<string, { filename: string; digests: { sha256: string } }[]> };
  const file = (doc.releases[version] ?? []).find((u) => u.filename === filename);
  assert.ok(file, `${filename} is not in PyPI's JSON API`);
  return file.digests.sha256;
}

describe('when fetching real sdists from PyPI', { skip: !network && 'set SEALED_TEST_NETWORK=1 to run' }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sealed-pypi-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [req, name] of [
    ['six==1.16.0', 'six'],
    ['attrs>=23', 'attrs'],
    ['markupsafe', 'markupsafe'],
  ] as const) {
    it(`finds, verifies and unpacks ${req}, with the hash PyPI lists`, async () => {
      const c = await findSdist(PYPI, req, { pythonVersion: '3.11.7', warn: () => undefined });
      assert.equal(c.name, name);
      assert.equal(c.sha256, await pypiJsonSha256(name, c.version, c.filename));
      if (req === 'six==1.16.0') assert.equal(c.sha256, '1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926');
      const got = await downloadVerified(c, join(dir, name));
      assert.equal(got.sha256, c.sha256);
      assert.equal(got.size, c.size);
      const x = await extractSdist(got.path, join(dir, name, 'src'), { name: c.name, version: c.version });
      assert.equal(x.version, c.version);
    });
  }
});
