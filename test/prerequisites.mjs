// The suite uses real tools: swtpm and tpm2-tools (TPM tests), git, pytest and build (shim tests).
// Nothing is skipped when one is missing: on a fresh machine, as root with apt, they are installed here
// (what .ci/run does); otherwise the suite stops and says what to install.
import { spawnSync } from 'node:child_process';

const has = (cmd, args = ['--version']) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const hasPy = (mod) => spawnSync('python3', ['-c', `import ${mod}`], { stdio: 'ignore' }).status === 0;

export function ensurePrerequisites() {
  const debian = [];
  if (!has('swtpm', ['--version'])) debian.push('swtpm', 'swtpm-tools');
  if (!has('tpm2_checkquote', ['--version'])) debian.push('tpm2-tools');
  if (!has('git')) debian.push('git');
  const python = ['pytest', 'build'].filter((m) => !hasPy(m));
  if (debian.length === 0 && python.length === 0) return;
  const root = process.getuid?.() === 0 && has('apt-get', ['--version']);
  if (debian.length && root) {
    console.error(`installing Debian packages the tests need: ${debian.join(' ')}`);
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...debian], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  if (python.length) {
    console.error(`installing Python packages the tests need: ${python.join(' ')}`);
    spawnSync('python3', ['-m', 'pip', 'install', '--quiet', ...python], { stdio: 'inherit' });
  }
  const still = [...debian.filter((p) => p !== 'swtpm-tools').filter((p) => !has(p === 'tpm2-tools' ? 'tpm2_checkquote' : p, ['--version'])), ...python.filter((m) => !hasPy(m))];
  if (still.length) {
    console.error(`The tests need: ${still.join(', ')}. Install them (see .ci/run) and run npm test again.`);
    process.exit(2);
  }
}
