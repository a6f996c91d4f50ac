import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkLockTarget, checkResolved, hashPolicy, loadRequirementFiles, lockPlan, lockQuestions, parsePylock, parseRequirements } from '../../src/requirements/index.js';
import { askInterpreter } from '../../src/env/markers.js';
import { isSealedError, type ErrorCode } from '../../src/errors.js';

const H1 = 'a'.repeat(64);
const H2 = 'b'.repeat(64);

function code(fn: () => unknown, expected: ErrorCode, about?: RegExp): void {
  assert.throws(fn, (e) => {
    assert.ok(isSealedError(e), String(e));
    assert.equal(e.code, expected, e.message);
    if (about) assert.match(e.message, about);
    return true;
  });
}

describe('parseRequirements', () => {
  it('reads requirements, extras, markers, hashes, continuations, comments and includes as pip does', () => {
    const lines = parseRequirements(
      [
        '# a comment',
        'attrs[tests]>=23 ; python_version >= "3.8"   # trailing comment',
        `six==1.16.0 \\`,
        `    --hash=sha256:${H1.toUpperCase()} \\`,
        `    --hash sha256:${H2}`,
        '-r other.txt',
        '--constraint=c.txt',
        '-rglued.txt',
        '--require-hashes',
        '',
      ].join('\n'),
      'req.txt',
    );
    assert.deepEqual(lines, [
      { kind: 'requirement', req: { text: 'attrs[tests]>=23 ; python_version >= "3.8"', name: 'attrs', hashes: [], where: 'req.txt:2' } },
      { kind: 'requirement', req: { text: 'six==1.16.0', name: 'six', hashes: [H1, H2], where: 'req.txt:3' } },
      { kind: 'include', path: 'other.txt', constraint: false, where: 'req.txt:6' },
      { kind: 'include', path: 'c.txt', constraint: true, where: 'req.txt:7' },
      { kind: 'include', path: 'glued.txt', constraint: false, where: 'req.txt:8' },
    ]);
  });
  for (const [what, line, about] of [
    ['an index in the file', '-i https://evil.example/simple/', /one index/],
    ['an extra index', '--extra-index-url https://evil.example/simple/', /dependency confusion|one index/],
    ['find-links', '-f /tmp/wheels', /one index/],
    ['an editable', '-e .', /editable/],
    ['a URL requirement', 'pkg @ https://example.com/pkg.tar.gz', /URL requirement/],
    ['a weaker hash', `six==1 --hash=md5:${'0'.repeat(32)}`, /md5 hashes are not accepted/],
    ['a short hash', 'six==1 --hash=sha256:abcd', /not a --hash=sha256/],
    ['an unknown option', '--frobnicate', /not understood/],
    ['an option after a requirement', 'six==1 --install-option=--prefix=/', /not understood/],
    ['garbage', '!!!', /not a requirement/],
    ['a NUL byte', 'six\0', /NUL/],
  ] as const) {
    it(`refuses ${what} (MALFORMED_INPUT)`, () => code(() => parseRequirements(line, 'r.txt'), 'MALFORMED_INPUT', about));
  }
});

describe('loadRequirementFiles', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sealed-reqs-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'top.txt'), '-r sub/nested.txt\n-c cons.txt\nattrs\n');
    writeFileSync(join(dir, 'sub', 'nested.txt'), '-r ../leaf.txt\nsix\n');
    writeFileSync(join(dir, 'leaf.txt'), 'idna\n');
    writeFileSync(join(dir, 'cons.txt'), 'six<2\n');
    writeFileSync(join(dir, 'loop.txt'), '-r loop2.txt\n');
    writeFileSync(join(dir, 'loop2.txt'), '-r loop.txt\n');
    writeFileSync(join(dir, 'latin1.txt'), Buffer.from([0x73, 0x69, 0x78, 0xe9, 0x0a]));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('follows nested -r relative to each file, and -c into constraints', () => {
    const got = loadRequirementFiles([{ path: 'top.txt', constraint: false }], dir);
    assert.deepEqual(got.requirements.map((r) => r.name), ['idna', 'six', 'attrs']);
    assert.deepEqual(got.constraints.map((r) => r.text), ['six<2']);
    assert.equal(got.files.length, 4);
  });
  it('refuses a file that includes itself, a missing file and a file that is not UTF-8', () => {
    code(() => loadRequirementFiles([{ path: 'loop.txt', constraint: false }], dir), 'MALFORMED_INPUT', /includes itself/);
    code(() => loadRequirementFiles([{ path: 'nope.txt', constraint: false }], dir), 'USAGE', /ENOENT/);
    code(() => loadRequirementFiles([{ path: 'latin1.txt', constraint: false }], dir), 'MALFORMED_INPUT', /UTF-8/);
  });
});

describe('hash-checking mode', () => {
  const req = (text: string, hashes: string[] = []) => parseRequirements(`${text}${hashes.map((h) => ` --hash=sha256:${h}`).join('')}`, 'r.txt').map((l) => (l.kind === 'requirement' ? l.req : null)).filter((r) => r !== null);

  it('is off without hashes: anything resolved is allowed', () => {
    const p = hashPolicy(req('six'), [], 'r.txt');
    assert.equal(p.required, false);
    checkResolved(p, [{ name: 'six', version: '1', sha256: H1, requested: true }]);
  });
  it('when one requirement has a hash, refuses one without (HASH_REQUIRED)', () => {
    code(() => hashPolicy([...req('six==1', [H1]), ...req('attrs==23')], [], 'r.txt'), 'HASH_REQUIRED', /attrs==23 has no --hash/);
  });
  it('refuses a resolved sdist whose index hash is not in the file (HASH_MISMATCH), and a dependency with no hash (HASH_REQUIRED)', () => {
    const p = hashPolicy(req('six==1', [H1]), [], 'r.txt');
    checkResolved(p, [{ name: 'six', version: '1', sha256: H1.toUpperCase(), requested: true }]);
    code(() => checkResolved(p, [{ name: 'six', version: '1', sha256: H2, requested: true }]), 'HASH_MISMATCH');
    code(() => checkResolved(p, [{ name: 'idna', version: '3', sha256: H2, requested: false }]), 'HASH_REQUIRED', /a dependency/);
  });
});

describe('parsePylock (PEP 751)', () => {
  const lock = (pkgs: string, head = 'lock-version = "1.0"\ncreated-by = "test"\n') => `${head}${pkgs}`;
  const pkg = (name: string, version: string, extra = `sdist = { name = "${name}-${version}.tar.gz", hashes = { sha256 = "${H1}" } }`) => `[[packages]]\nname = "${name}"\nversion = "${version}"\n${extra}\n`;

  it('reads exact versions, markers and sdist hashes into requirements and a policy', () => {
    const l = parsePylock(lock(pkg('Six', '1.16.0') + pkg('colorama', '0.4.6', `marker = "sys_platform == 'win32'"\nsdist = { hashes = { sha256 = "${H2}" } }`)), 'pylock.toml');
    const plan = lockPlan(l, 'pylock.toml');
    assert.deepEqual(plan.requirements, ['six==1.16.0', "colorama==0.4.6 ; sys_platform == 'win32'"]);
    checkResolved(plan.policy, [{ name: 'six', version: '1.16.0', sha256: H1, requested: true }]);
    code(() => checkResolved(plan.policy, [{ name: 'six', version: '1.17.0', sha256: H1, requested: true }]), 'LOCK_MISMATCH');
    code(() => checkResolved(plan.policy, [{ name: 'idna', version: '3', sha256: H1, requested: false }]), 'LOCK_MISMATCH', /does not lock/);
    code(() => checkResolved(plan.policy, [{ name: 'six', version: '1.16.0', sha256: H2, requested: true }]), 'HASH_MISMATCH');
  });
  for (const [what, text, about] of [
    ['not TOML', 'lock-version = ', /not valid TOML/],
    ['another major lock-version', lock(pkg('six', '1'), 'lock-version = "2.0"\n'), /not 1\.x/],
    ['no lock-version', pkg('six', '1'), /lock-version/],
    ['no packages', 'lock-version = "1.0"\n', /packages/],
    ['a package without a version', lock('[[packages]]\nname = "six"\n'), /no version/],
    ['wheels only', lock(pkg('six', '1', `wheels = [{ name = "six-1-py3-none-any.whl", hashes = { sha256 = "${H1}" } }]`)), /no sdist/],
    ['a VCS source', lock(pkg('six', '1', 'vcs = { type = "git", url = "https://x", commit-id = "abc" }')), /vcs/],
    ['an sdist without sha256', lock(pkg('six', '1', 'sdist = { hashes = { sha512 = "00" } }')), /no sha256/],
    ['one name twice without markers', lock(pkg('six', '1') + pkg('six', '2')), /locked twice/],
    ['environments that are not a list of markers', lock(pkg('six', '1'), 'lock-version = "1.0"\nenvironments = "os_name == \'posix\'"\n'), /environments/],
    ['a package requires-python that is not a string', lock(pkg('six', '1', `requires-python = 3\nsdist = { hashes = { sha256 = "${H1}" } }`)), /requires-python/],
  ] as const) {
    it(`refuses ${what} (MALFORMED_INPUT)`, () => code(() => parsePylock(text, 'pylock.toml'), 'MALFORMED_INPUT', about));
  }
});

describe('a PEP 751 lock against the target interpreter (python3, answering with its own pip)', () => {
  const pkg = (name: string, extra = '') => `[[packages]]\nname = "${name}"\nversion = "1.0"\n${extra}sdist = { hashes = { sha256 = "${H1}" } }\n`;
  async function check(text: string): Promise<void> {
    const lock = parsePylock(text, 'pylock.toml');
    checkLockTarget(lock, 'pylock.toml', { python: 'python3', ...(await askInterpreter('python3', lockQuestions(lock), process.env)) });
  }
  async function refused(text: string, expected: ErrorCode, about: RegExp): Promise<void> {
    await assert.rejects(check(text), (e) => {
      assert.ok(isSealedError(e), String(e));
      assert.equal(e.code, expected, e.message);
      assert.match(e.message, about);
      return true;
    });
  }
  const head = (lines: string) => `lock-version = "1.0"\n${lines}`;

  it("accepts a lock whose requires-python and one of whose environments hold", async () => {
    await check(head(`requires-python = ">=3.8"\nenvironments = ["sys_platform == 'win32'", "os_name == 'posix'"]\n`) + pkg('six', 'requires-python = ">=3"\n'));
  });
  it("refuses the lock's requires-python that excludes the interpreter (LOCK_PYTHON_MISMATCH, exit 2)", async () => {
    await refused(head('requires-python = ">=99"\n') + pkg('six'), 'LOCK_PYTHON_MISMATCH', /requires Python >=99, and the target interpreter python3 \(Python 3\.\d+\.\d+\)/);
    const e = await check(head('requires-python = "<3"\n') + pkg('six')).catch((x: unknown) => x);
    assert.ok(isSealedError(e, 'LOCK_PYTHON_MISMATCH'));
    assert.equal(e.exitCode, 2);
    assert.match(String(e.details.hint), /--python/);
  });
  it('refuses a lock none of whose environments holds (LOCK_ENVIRONMENT_MISMATCH)', async () => {
    await refused(head(`environments = ["sys_platform == 'win32'", "python_version < '3'"]\n`) + pkg('six'), 'LOCK_ENVIRONMENT_MISMATCH', /none of its 2 environment marker/);
  });
  it("refuses a package's requires-python that excludes the interpreter, naming it, unless its marker skips it", async () => {
    await refused(head('') + pkg('six') + pkg('old-thing', 'requires-python = "<3"\n'), 'LOCK_PYTHON_MISMATCH', /old-thing 1\.0 requires Python <3/);
    await check(head('') + pkg('six') + pkg('old-thing', `marker = "python_version < '3'"\nrequires-python = "<3"\n`));
  });
  it('refuses a requires-python or marker the interpreter cannot read (MALFORMED_INPUT)', async () => {
    await refused(head('requires-python = "at least three"\n') + pkg('six'), 'MALFORMED_INPUT', /requires-python: "at least three" is not a PEP 440/);
    await refused(head('environments = ["os_name is posix"]\n') + pkg('six'), 'MALFORMED_INPUT', /environments\[0\]/);
  });
});
