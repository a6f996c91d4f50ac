// The suite uses real tools: swtpm and tpm2-tools (TPM tests), git, bubblewrap (the build sandbox),
// SoftHSM2 and OpenSC (PKCS#11 keys), pytest and build (shim tests), and a test venv with the independent
// checkers (securesystemslib, cryptography, in-toto-attestation) and an S3-compatible server (moto).
// Nothing is skipped when one is missing: on a fresh machine, as root with apt, they are installed here
// (what .ci/run does); otherwise the suite stops and says what to install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The test venv's interpreter; test/helpers/tools.ts names the same path. */
export const testVenvPython = join(root, '.cache', 'test-venv', 'bin', 'python');
const TEST_VENV_PACKAGES = ['securesystemslib[crypto]', 'cryptography', 'in-toto-attestation', 'moto[server]', 'in-toto'];
const TEST_VENV_MODULES = ['securesystemslib', 'cryptography', 'in_toto_attestation', 'moto', 'in_toto'];

const has = (cmd, args = ['--version']) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const hasPy = (mod, python = 'python3') => spawnSync(python, ['-c', `import ${mod}`], { stdio: 'ignore' }).status === 0;
// pip's own configuration on a machine may name extra indexes and find-links: the suite takes its tools from PyPI only.
const pipEnv = { ...process.env, PIP_CONFIG_FILE: '/dev/null', PIP_FIND_LINKS: '', PIP_EXTRA_INDEX_URL: '', PIP_INDEX_URL: 'https://pypi.org/simple/' };

export function ensurePrerequisites() {
  const debian = [];
  if (!has('swtpm', ['--version'])) debian.push('swtpm', 'swtpm-tools');
  if (!has('tpm2_checkquote', ['--version'])) debian.push('tpm2-tools');
  if (!has('git')) debian.push('git');
  if (!has('bwrap', ['--version'])) debian.push('bubblewrap');
  if (!has('softhsm2-util', ['--version'])) debian.push('softhsm2');
  if (!onPath('pkcs11-tool')) debian.push('opensc');
  const python = ['pytest', 'build'].filter((m) => !hasPy(m));
  const venvMissing = !existsSync(testVenvPython) || TEST_VENV_MODULES.some((m) => !hasPy(m, testVenvPython));
  if (debian.length === 0 && python.length === 0 && !venvMissing) return;
  const asRoot = process.getuid?.() === 0 && has('apt-get', ['--version']);
  if (debian.length && asRoot) {
    console.error(`installing Debian packages the tests need: ${debian.join(' ')}`);
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...debian], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  if (python.length) {
    console.error(`installing Python packages the tests need: ${python.join(' ')}`);
    spawnSync('python3', ['-m', 'pip', 'install', '--quiet', ...python], { stdio: 'inherit', env: pipEnv });
  }
  if (venvMissing) {
    console.error(`creating the test venv (.cache/test-venv): ${TEST_VENV_PACKAGES.join(' ')}`);
    if (!existsSync(testVenvPython)) spawnSync('python3', ['-m', 'venv', join(root, '.cache', 'test-venv')], { stdio: 'inherit' });
    spawnSync(testVenvPython, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...TEST_VENV_PACKAGES], { stdio: 'inherit', env: pipEnv });
  }
  const still = [
    ...debian.filter((p) => p !== 'swtpm-tools').filter((p) => !onPath({ 'tpm2-tools': 'tpm2_checkquote', bubblewrap: 'bwrap', softhsm2: 'softhsm2-util', opensc: 'pkcs11-tool' }[p] ?? p)),
    ...python.filter((m) => !hasPy(m)),
    ...TEST_VENV_MODULES.filter((m) => !hasPy(m, testVenvPython)).map((m) => `${m} (in .cache/test-venv)`),
  ];
  if (still.length) {
    console.error(`The tests need: ${still.join(', ')}. Install them (see .ci/run) and run npm test again.`);
    process.exit(2);
  }
}
