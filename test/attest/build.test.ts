// Every new seal gets `<wheel>.intoto.jsonl` beside it: `sealed build` from an index and from a folder
// (with and without TPM evidence), the shim's build (a tree source) and `sealed install`'s store. Each
// envelope is verified by securesystemslib with only the public key `sealed key show` prints.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { fixtureSdist, writeProject } from '../helpers/projects.js';
import { startSwtpm, type Swtpm } from '../helpers/swtpm.js';
import { runCli } from '../helpers/cli.js';
import { parseSeal, recordBody, type Seal } from '../../src/seal/index.js';
import type { BuildBody, SourceBody, TpmBody } from '../../src/chain/types.js';
import { inTotoVerifyLink, pythonVerify, sigstoreJsVerify } from './helpers.js';

let index: IndexServer;
let swtpm: Swtpm;
let work: string;
let sdistPath: string;

const sha256 = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-attest-build-'));
  const projects = projectsFromFolder(ensureWheelhouse());
  sdistPath = await fixtureSdist(join(work, 'fixtures'), { backend: 'flit', name: 'attest-demo', version: '1.0.0' });
  projects['attest-demo'] = [{ filename: sdistPath.split('/').pop()!, path: sdistPath }];
  index = await startIndexServer({ projects });
  swtpm = await startSwtpm();
});
after(async () => {
  await index?.close();
  await swtpm?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function publicKeyHex(home: string): Promise<string> {
  const res = await runCli(['--json', '--home', home, 'key', 'show']);
  assert.equal(res.status, 0, res.stderr);
  return String(res.json.public_key).slice('ed25519:'.length);
}

/** The envelope's statement, after the independent verifier accepted it with that key and subject. */
function verifiedStatement(file: string, keyHex: string, wheelSha256: string): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  const v = pythonVerify(file, keyHex, ['--subject-sha256', wheelSha256]);
  assert.ok(v.ok, JSON.stringify(v));
  const env = JSON.parse(readFileSync(file, 'utf8').trim());
  return JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'));
}

/** Every build requirement of the seal is a resolved dependency with its name, version, URL and SHA-256. */
function assertRequirements(statement: any, seal: Seal): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  const build = recordBody(seal, 'build') as BuildBody;
  assert.ok(build.requirements.length > 0);
  const deps = statement.predicate.buildDefinition.resolvedDependencies as { name: string; uri?: string; digest?: { sha256: string }; annotations: { role: string; version: string } }[];
  for (const r of build.requirements) {
    const d = deps.find((x) => x.name === r.name && x.annotations.role === 'build-requirement');
    assert.ok(d, `build requirement ${r.name} is a resolved dependency`);
    assert.equal(d.annotations.version, r.version);
    assert.equal(d.digest?.sha256 ?? null, r.sha256);
    assert.equal(d.uri ?? null, r.url);
  }
  const py = deps.find((x) => x.annotations.role === 'interpreter');
  assert.equal(py?.digest?.sha256, build.python.sha256);
}

describe('when sealed build seals a wheel', () => {
  it('from the index: the envelope beside the seal verifies and carries the sdist\'s index SHA-256 and every build requirement', async () => {
    const home = join(work, 'home-index');
    const out = join(work, 'out-index');
    const res = await runCli(['--json', '--home', home, 'build', 'attest-demo==1.0.0', '-o', out, '--index-url', index.url]);
    assert.equal(res.status, 0, res.stderr);
    const wheel: string = res.json.wheel;
    const att = `${wheel}.intoto.jsonl`;
    assert.ok(existsSync(att), 'the attestation is written beside the seal');
    const seal = parseSeal(readFileSync(res.json.seal, 'utf8'));
    const statement = verifiedStatement(att, await publicKeyHex(home), sha256(wheel));
    const sdist = statement.predicate.buildDefinition.resolvedDependencies[0];
    const source = recordBody(seal, 'source') as Extract<SourceBody, { kind: 'index' }>;
    assert.equal(sdist.annotations.role, 'sdist');
    assert.equal(sdist.digest.sha256, sha256(sdistPath));
    assert.equal(sdist.annotations.index_sha256, sha256(sdistPath));
    assert.equal(sdist.uri, source.url);
    assert.equal(statement.predicate.buildDefinition.externalParameters.source.requirement, 'attest-demo==1.0.0');
    assertRequirements(statement, seal);
    assert.equal(statement.predicate.runDetails.metadata.invocationId, seal.chain_hash);
    assert.deepEqual(statement.predicate.runDetails.byproducts.map((b: { name: string }) => b.name), ['environment', 'seal'], 'no TPM, no tpm byproduct');

    const back = await runCli(['--json', 'verify-seal', att, '--artifact', wheel]);
    assert.equal(back.status, 0, back.stderr);
    assert.equal(back.json.envelopes[0].seal_checked, true);
    assert.equal(back.json.envelopes[0].chain_hash, res.json.chain_hash);
    assert.equal(back.json.envelopes[0].signer.fingerprint, res.json.signer.fingerprint);

    const link = join(out, 'build.link');
    const linked = await runCli(['--home', home, 'attest', res.json.seal, '--format', 'in-toto-link', '-o', link]);
    assert.equal(linked.status, 0, linked.stderr);
    const verdict = inTotoVerifyLink(link, await publicKeyHex(home), source.filename, wheel.split('/').pop()!, join(out, 'layout'));
    assert.ok(verdict.ok, verdict.out);

    const bundle = join(out, 'attest-demo.sigstore.json');
    const bundled = await runCli(['--home', home, 'attest', res.json.seal, '--format', 'sigstore-bundle', '-o', bundle]);
    assert.equal(bundled.status, 0, bundled.stderr);
    const js = sigstoreJsVerify(bundle, await publicKeyHex(home));
    assert.ok(js.ok, js.out);

    const again = await runCli(['--home', home, 'attest', seal.chain_hash]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout, readFileSync(att, 'utf8'), 'the stored seal renders to the same envelope');
  });

  it('from a folder with a TPM: the quote travels as a byproduct and the envelope verifies', async () => {
    const dir = mkdtempSync(join(work, 'tpm-'));
    const project = writeProject(dir, { backend: 'flit', name: 'attest-tpm', version: '0.2.0' });
    const home = join(dir, 'home');
    const res = await runCli(['--json', '--home', home, 'build', project, '-o', join(dir, 'out'), '--index-url', index.url], { env: { SEALED_TPM: swtpm.setting } });
    assert.equal(res.status, 0, res.stderr);
    const seal = parseSeal(readFileSync(res.json.seal, 'utf8'));
    const statement = verifiedStatement(`${res.json.wheel}.intoto.jsonl`, await publicKeyHex(home), sha256(res.json.wheel));
    const tpm = statement.predicate.runDetails.byproducts.find((b: { name: string }) => b.name === 'tpm');
    assert.deepEqual(tpm.annotations, recordBody(seal, 'tpm') as TpmBody);
    assertRequirements(statement, seal);
    const back = await runCli(['--json', 'verify-seal', `${res.json.wheel}.intoto.jsonl`, '--artifact', res.json.wheel]);
    assert.equal(back.status, 0, back.stderr);
    assert.equal(back.json.envelopes[0].seal_checked, true);
  });
});

describe('when the shim seals a tree build', () => {
  it('writes the envelope beside the wheel and into the seal folder, with the tree as the source', async () => {
    const dir = mkdtempSync(join(work, 'shim-'));
    const project = join(dir, 'proj');
    mkdirSync(join(project, '_backend'), { recursive: true });
    writeFileSync(join(project, '_backend', 'tiny_backend.py'), TINY_BACKEND);
    writeFileSync(
      join(project, 'pyproject.toml'),
      '[build-system]\nrequires = ["sealed-backend"]\nbuild-backend = "sealed_backend"\n\n[project]\nname = "tiny-attest"\nversion = "0.1.0"\n\n[tool.sealed]\nbackend = "tiny_backend"\nbackend-path = ["_backend"]\n',
    );
    const home = join(dir, 'home');
    const wheelDir = join(dir, 'wheels');
    const sealDir = join(dir, 'seals');
    const res = await runCli(
      ['--json', 'backend-build', '--source', project, '--wheel-dir', wheelDir, '--seal-dir', sealDir, '--backend', 'tiny_backend', '--backend-path', '_backend', '--python', 'python3', '--config-settings', 'null'],
      { cwd: project, env: { SEALED_HOME: home, PYTHONPATH: '' } },
    );
    assert.equal(res.status, 0, res.stderr);
    const wheel = join(wheelDir, res.json.wheel);
    const att = `${wheel}.intoto.jsonl`;
    assert.deepEqual(readFileSync(join(sealDir, `${res.json.wheel}.intoto.jsonl`)), readFileSync(att));
    const seal = parseSeal(readFileSync(`${wheel}.seal.json`, 'utf8'));
    const statement = verifiedStatement(att, await publicKeyHex(home), sha256(wheel));
    const tree = statement.predicate.buildDefinition.resolvedDependencies[0];
    assert.equal(tree.name, 'source-tree');
    assert.equal(tree.digest.sealedTreeSha256, (recordBody(seal, 'source') as Extract<SourceBody, { kind: 'tree' }>).tree_sha256);
    assert.equal(statement.predicate.buildDefinition.externalParameters.source.kind, 'tree');
    const back = await runCli(['--json', 'verify-seal', att, '--artifact', wheel]);
    assert.equal(back.status, 0, back.stderr);
  });
});

describe('when sealed install stores a wheel it built', () => {
  it('the store holds the envelope beside the wheel', async () => {
    const home = join(work, 'home-install');
    const venv = join(mkdtempSync(join(work, 'venv-')), 'venv');
    execFileSync('python3', ['-m', 'venv', venv]);
    const python = join(venv, 'bin', 'python');
    const res = await runCli(['--json', '--home', home, 'install', 'attest-demo==1.0.0', '--index-url', index.url, '--python', python]);
    assert.equal(res.status, 0, res.stderr);
    const shown = await runCli(['--json', '--home', home, 'registry', 'list']);
    assert.equal(shown.status, 0, shown.stderr);
    const storedDir = join(home, 'wheels');
    const find = (d: string): string[] => execFileSync('find', [d, '-name', '*.intoto.jsonl'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const atts = find(storedDir);
    assert.equal(atts.length, 1);
    const wheel = atts[0]!.slice(0, -'.intoto.jsonl'.length);
    verifiedStatement(atts[0]!, await publicKeyHex(home), sha256(wheel));
  });
});

// Real PyPI: runs by default (test/run.mjs sets SEALED_TEST_NETWORK=1, as CI does); SEALED_TEST_NETWORK=0 offline.
const network = process.env.SEALED_TEST_NETWORK !== '0';
describe('when sealed build builds attrs from PyPI (network)', { skip: !network && 'SEALED_TEST_NETWORK=0' }, () => {
  it('the envelope verifies with the key from `sealed key show`, carries PyPI\'s SHA-256 of the sdist and every build requirement\'s', async () => {
    const home = join(work, 'home-pypi');
    const out = join(work, 'out-pypi');
    const res = await runCli(['--json', '--home', home, 'build', 'attrs==25.3.0', '-o', out, '--index-url', 'https://pypi.org/simple/'], { timeoutMs: 600_000 });
    assert.equal(res.status, 0, res.stderr);
    const wheel: string = res.json.wheel;
    const seal = parseSeal(readFileSync(res.json.seal, 'utf8'));
    const statement = verifiedStatement(`${wheel}.intoto.jsonl`, await publicKeyHex(home), sha256(wheel));
    const listed = await pypiSha256('attrs', '25.3.0', (recordBody(seal, 'source') as { filename: string }).filename);
    const sdist = statement.predicate.buildDefinition.resolvedDependencies[0];
    assert.equal(sdist.digest.sha256, listed);
    assert.equal(sdist.annotations.index_sha256, listed);
    assertRequirements(statement, seal);
    const build = recordBody(seal, 'build') as BuildBody;
    assertEvery(build.requirements, (r) => r.sha256 !== null, 'build requirement with a SHA-256');
    assert.ok(build.requirements.some((r) => r.name === 'hatchling'));
  });
});

/** PyPI's JSON API, a second witness of the sdist's SHA-256. */
async function pypiSha256(name: string, version: string, filename: string): Promise<string> {
  const res = await fetch(`https://pypi.org/pypi/${name}/json`);
  assert.equal(res.status, 200);
  const doc = (await res.json()) as { releases: Record<string, { filename: string; digests: { sha256: string } }[]> };
  const file = (doc.releases[version] ?? []).find((u) => u.filename === filename);
  assert.ok(file, `${filename} is listed by PyPI`);
  return file.digests.sha256;
}

// A stdlib-only backend in the project (backend-path), so the shim's build needs no index.
const TINY_BACKEND = `
import base64, hashlib, os, zipfile
DIST = "tiny_attest-0.1.0"
def _rec(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = {
        "tiny_attest/__init__.py": b"VALUE = 1\\n",
        DIST + ".dist-info/METADATA": b"Metadata-Version: 2.1\\nName: tiny-attest\\nVersion: 0.1.0\\n",
        DIST + ".dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: tiny\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    record = "".join("%s,%s,%d\\n" % (p, _rec(d), len(d)) for p, d in files.items()) + DIST + ".dist-info/RECORD,,\\n"
    files[DIST + ".dist-info/RECORD"] = record.encode()
    name = DIST + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        for p, d in files.items():
            z.writestr(zipfile.ZipInfo(p, (2020, 1, 1, 0, 0, 0)), d)
    return name
`;
import { assertEvery } from '../helpers/rejects.js';
