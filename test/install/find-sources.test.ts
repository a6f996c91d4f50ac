// Stage 1's lookup in `sealed install`: each resolved distribution's sdist is found on the index once,
// and a project that publishes no sdist at all is NO_SDIST (exit 1), not pip's "from versions: none".
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { fixtureSdist } from '../helpers/projects.js';
import { runCli } from '../helpers/cli.js';
import { makeVenv } from '../helpers/venv.js';
import { goodSdist } from '../helpers/sdists.js';
import { HttpClient } from '../../src/http/index.js';
import { findSources } from '../../src/install/find-sources.js';
import { ResolutionHints } from '../../src/install/pip-hints.js';
import type { InstallOptions } from '../../src/install/types.js';

let index: IndexServer;
let work: string;
const cleanPip = { ...process.env, PIP_CONFIG_FILE: '/dev/null', PIP_FIND_LINKS: '', PIP_EXTRA_INDEX_URL: '' };

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-find-sources-'));
  const projects = projectsFromFolder(ensureWheelhouse());
  // demo-wheels: published as a wheel only (built here from a fixture sdist, which is not served).
  const hidden = await fixtureSdist(join(work, 'hidden'), { backend: 'flit', name: 'demo-wheels', version: '1.0.0' });
  const wheelDir = join(work, 'wheels');
  execFileSync('python3', ['-m', 'pip', 'wheel', '--quiet', '--no-deps', '--no-index', '--find-links', ensureWheelhouse(), '-w', wheelDir, hidden], { env: cleanPip });
  const wheel = readdirSync(wheelDir).find((f) => f.endsWith('.whl'))!;
  projects['demo-wheels'] = [{ filename: wheel, path: join(wheelDir, wheel) }];
  const once = await fixtureSdist(join(work, 'fixtures'), { backend: 'flit', name: 'demo-once', version: '1.0.0' });
  projects['demo-once'] = [{ filename: once.split('/').pop()!, path: once }];
  index = await startIndexServer({ projects });
});
after(async () => {
  await index?.close();
});

const venv = (label: string) => makeVenv(work, label);

const freeze = (python: string) => execFileSync(python, ['-m', 'pip', 'freeze', '--all'], { encoding: 'utf8', env: cleanPip });

/** The project-page requests Sealed itself made (pip reads the same pages with its own user agent). */
function sealedPageRequests(project: string): number {
  return index.requests.filter((path, i) => path === `/simple/${project}/` && index.headers[i]?.['user-agent'] === 'sealed').length;
}

describe('when a project publishes only wheels', () => {
  it('refuses with NO_SDIST (exit 1), saying Sealed builds from source, and installs nothing', async () => {
    const python = venv('wheels');
    const before = freeze(python);
    const res = await runCli(['--json', '--home', join(work, 'home-wheels'), 'install', '--index-url', index.url, '--python', python, 'demo-wheels']);
    assert.equal(res.status, 1, res.stderr);
    assert.equal(res.json.ok, false);
    assert.equal(res.json.error.code, 'NO_SDIST');
    assert.deepEqual(res.json.error.sdist_versions, []);
    assert.equal(freeze(python), before);
    assert.equal(sealedPageRequests('demo-wheels'), 1, 'no second resolution is tried when no version has an sdist');
  });
});

describe('when a project has an sdist', () => {
  it('finds it on the index once, and builds, seals and installs from that one lookup', async () => {
    const python = venv('once');
    const before = sealedPageRequests('demo-once');
    const res = await runCli(['--json', '--home', join(work, 'home-once'), 'install', '--index-url', index.url, '--python', python, 'demo-once==1.0.0']);
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.json.packages.length, 1);
    assert.equal(res.json.packages[0].status, 'accepted');
    assert.equal(res.json.packages[0].action, 'build');
    assert.equal(sealedPageRequests('demo-once') - before, 1);
  });
});

describe('when pip names versions while it resolves (hints)', () => {
  let hinted: IndexServer;
  before(async () => {
    const yanked = await goodSdist('demo-hinted', '1.0');
    const kept = await goodSdist('demo-hinted', '2.0');
    hinted = await startIndexServer({
      projects: {
        'demo-hinted': [
          { filename: 'demo-hinted-1.0.tar.gz', content: yanked, yanked: 'broken' },
          { filename: 'demo-hinted-2.0.tar.gz', content: kept },
        ],
      },
    });
  });
  after(async () => {
    await hinted?.close();
  });

  async function find(chosen: string, hintedVersions: string[]) {
    const warnings: string[] = [];
    const o = { indexUrl: hinted.url, warn: (m: string) => warnings.push(m), progress: () => undefined } as unknown as InstallOptions;
    const hints = new ResolutionHints();
    for (const v of hintedVersions) hints.feed(Buffer.from(`  Downloading ${hinted.origin}/files/demo-hinted/demo-hinted-${v}.tar.gz (1 kB)\n`));
    const pages = () => hinted.requests.filter((p) => p === '/simple/demo-hinted/').length;
    const before = pages();
    const http = new HttpClient();
    try {
      const resolution = Promise.resolve({ dists: [{ name: 'demo-hinted', version: chosen, requested: true, localSdist: null }], alreadySatisfied: [] });
      const found = await findSources(o, http, ['demo-hinted'], work, Promise.resolve({ version: '3.11.7' }), resolution, hints);
      return { found, warnings, pages: pages() - before };
    } finally {
      http.close();
    }
  }

  it('what was read for a version the resolution did not choose is not said (its warnings included)', async () => {
    const r = await find('2.0', ['1.0', '2.0']);
    assert.equal(r.found.candidates.get('demo-hinted')?.version, '2.0');
    assert.deepEqual(r.warnings, []);
  });

  it("the chosen version's early read is used as it is, its warnings said once, and its page not read again", async () => {
    const r = await find('1.0', ['1.0']);
    assert.equal(r.found.candidates.get('demo-hinted')?.version, '1.0');
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /yanked: broken/);
    assert.equal(r.pages, 1);
  });
});
