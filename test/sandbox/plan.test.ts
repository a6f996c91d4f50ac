import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bwrapArgs, checkPlan, findUser, isWithin, outermost, resolveSandboxMode, sandboxEnvironment, setprivArgs, type SandboxPlan } from '../../src/sandbox/index.js';
import { isSealedError } from '../../src/errors.js';

const plan = (over: Partial<SandboxPlan> = {}): SandboxPlan => ({
  readOnly: ['/usr', '/opt/py/3.11'],
  writable: ['/tmp/sealed-w/src', '/tmp/sealed-w/wheel'],
  symlinks: [{ path: '/bin', target: 'usr/bin' }],
  env: { PATH: '/usr/bin', HOME: '/tmp' },
  cwd: '/tmp/sealed-w/src',
  network: false,
  ...over,
});

describe('the sandbox plan', () => {
  it('gives bwrap every namespace, a private /tmp, the binds in depth order, a cleared environment and the tree as its folder', () => {
    const args = bwrapArgs(plan({ readOnly: ['/opt/py/3.11', '/usr'] }));
    for (const flag of ['--unshare-all', '--die-with-parent', '--new-session', '--clearenv']) assert.ok(args.includes(flag), flag);
    assert.deepEqual(args.slice(args.indexOf('--cap-drop'), args.indexOf('--cap-drop') + 2), ['--cap-drop', 'ALL']);
    assert.ok(!args.includes('--share-net'));
    assert.ok(args.indexOf('--tmpfs') < args.indexOf('/tmp/sealed-w/src'), 'the tree is bound after /tmp is made private');
    assert.ok(args.indexOf('/usr') < args.indexOf('/opt/py/3.11'));
    assert.deepEqual(args.slice(-2), ['--chdir', '/tmp/sealed-w/src']);
    assert.ok(!args.includes('/') || args[args.indexOf('/') - 1] === '--chdir' || args[args.indexOf('/') - 1] === '--proc', 'never binds /');
    assert.ok(bwrapArgs(plan({ network: true })).includes('--share-net'));
  });

  it('refuses to show /, Sealed\'s home, anything holding it, the home directory itself, or a folder holding the work folder', () => {
    const f = { sealedHome: '/root/.sealed', userHome: '/root' };
    checkPlan(plan({ readOnly: ['/usr', '/root/.pyenv/versions/3.11.7'] }), f); // below the home directory: allowed
    for (const bad of ['/', '/root', '/root/.sealed', '/root/.sealed/wheels', '/tmp']) {
      assert.throws(() => checkPlan(plan({ readOnly: ['/usr', bad] }), f), (e) => isSealedError(e, 'SANDBOX_UNAVAILABLE'), bad);
    }
    assert.throws(() => checkPlan(plan({ writable: ['relative/path'] }), f), (e) => isSealedError(e, 'SANDBOX_UNAVAILABLE'));
  });

  it('keeps only the outermost of nested folders', () => {
    assert.deepEqual(outermost(['/a/b', '/a', '/c', '/a/b/c', '/c']), ['/a', '/c']);
  });
});

describe('the sandbox environment', () => {
  it('keeps build-affecting variables and drops Sealed\'s, pip\'s and every credential', () => {
    const env = sandboxEnvironment(
      { PATH: '/usr/bin', CFLAGS: '-O2', SOURCE_DATE_EPOCH: '1', LANG: 'C.UTF-8', SEALED_HOME: '/root/.sealed', AWS_SECRET_ACCESS_KEY: 'x', GITHUB_TOKEN: 'y', PIP_INDEX_URL: 'https://u:p@i/', CMAKE_API_KEY: 'z', HOME: '/root', PYTHONPATH: '/x' },
      { keepPythonPath: false },
    );
    assert.deepEqual(env, { PATH: '/usr/bin', CFLAGS: '-O2', SOURCE_DATE_EPOCH: '1', LANG: 'C.UTF-8', HOME: '/tmp', TMPDIR: '/tmp', PYTHONNOUSERSITE: '1', PYTHONPATH: '' });
    assert.equal(sandboxEnvironment({ PYTHONPATH: '/overlay' }, { keepPythonPath: true }).PYTHONPATH, '/overlay');
  });
});

describe('choosing the sandbox', () => {
  it('takes --sandbox, then SEALED_SANDBOX, then bwrap, and refuses anything else', () => {
    assert.equal(resolveSandboxMode(undefined, {}), 'bwrap');
    assert.equal(resolveSandboxMode(undefined, { SEALED_SANDBOX: 'none' }), 'none');
    assert.equal(resolveSandboxMode('uid', { SEALED_SANDBOX: 'none' }), 'uid');
    for (const bad of ['', 'off', 'chroot', 'BWRAPX']) assert.throws(() => resolveSandboxMode(bad, {}), (e) => isSealedError(e, 'USAGE'), bad);
  });
});

describe('the uid sandbox', () => {
  it('finds the build user in passwd text and drops to it with no capabilities and no new privileges', () => {
    const passwd = 'root:x:0:0:root:/root:/bin/bash\nsealed-build:x:991:989::/nonexistent:/usr/sbin/nologin\nbroken:x:a:b::/:/bin/sh\n';
    assert.deepEqual(findUser(passwd, 'sealed-build'), { name: 'sealed-build', uid: 991, gid: 989 });
    assert.equal(findUser(passwd, 'broken'), null);
    assert.equal(findUser(passwd, 'nobody'), null);
    assert.deepEqual(setprivArgs({ name: 'b', uid: 991, gid: 989 }), ['--reuid=991', '--regid=989', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--']);
  });
});

describe('isWithin', () => {
  it('compares absolute paths as normalized folders, never as bare string prefixes', () => {
    const cases: [string, string, boolean][] = [
      ['/a/b', '/a', true],
      ['/a', '/a', true],
      ['/ab', '/a', false],
      ['/a/b/', '/a/b', true],
      ['/a/../b', '/a', false],
      ['/a/b/..', '/a', true],
      ['/b', '/', true],
      ['/', '/a', false],
      ['/a//b', '/a/', true],
      ['/a/./b', '/a/b', true],
      ['/root/.sealed', '/root', true],
      ['/root', '/root/.sealed', false],
    ];
    for (const [inner, outer, expected] of cases) assert.equal(isWithin(inner, outer), expected, `${inner} within ${outer}`);
  });
});
