import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer } from '../helpers/index-server.js';
import { fixtureSdist } from '../helpers/projects.js';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { cliPath } from '../helpers/paths.js';
import { keyFilePath } from '../../src/seal/index.js';
import { decryptSeed, parseEncryptedKey } from '../../src/signer/encrypted.js';

// Runs a command on a real pseudo-terminal (stdin, stdout and stderr all the terminal, as for a person),
// answering each expected prompt in turn; prints {"status", "output"} as JSON.
const DRIVER = String.raw`
import json, os, pty, select, sys, time
steps = json.loads(sys.argv[1]); cmd = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
out = b""; pos = 0; deadline = time.time() + 240
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.5)
    if fd in r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    while steps and steps[0][0].encode() in out[pos:]:
        pos = out.index(steps[0][0].encode(), pos) + len(steps[0][0])
        time.sleep(0.2)
        os.write(fd, steps.pop(0)[1].encode())
_, status = os.waitpid(pid, 0)
print(json.dumps({"status": os.waitstatus_to_exitcode(status), "output": out.decode("utf-8", "replace")}))
`;

function onTerminal(args: string[], steps: [string, string][]): Promise<{ status: number; output: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SEALED_')) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', DRIVER, JSON.stringify(steps), process.execPath, cliPath(), ...args], { env: { ...env, SEALED_TPM: 'off', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.on('error', reject);
    child.on('close', () => resolve(JSON.parse(out)));
  });
}

const work = mkdtempSync(join(tmpdir(), 'sealed-keytty-'));

async function fixtureProjects() {
  const projects = projectsFromFolder(ensureWheelhouse());
  const sdist = await fixtureSdist(join(work, 'fixtures'), { backend: 'flit', name: 'demo-tty', version: '1.0.0' });
  projects['demo-tty'] = [{ filename: sdist.split('/').pop()!, path: sdist }];
  return projects;
}

describe('keys at a terminal', () => {
  it('when the key is created on first use at a terminal, says once how to encrypt it; not when there is no terminal', async () => {
    const home = join(work, 'first-use');
    const first = await onTerminal(['--home', home, 'key', 'show'], []);
    assert.equal(first.status, 0, first.output);
    assert.equal(first.output.split('sealed key encrypt').length - 1, 1, first.output);
    const again = await onTerminal(['--home', home, 'key', 'show'], []);
    assert.ok(!again.output.includes('sealed key encrypt'), 'said once, when the key was made');
    const piped = await runCli(['--home', join(work, 'first-use-piped'), 'key', 'show']);
    assert.equal(piped.status, 0);
    assert.ok(!piped.stderr.includes('sealed key encrypt'));
  });

  it('when generating an encrypted key at a terminal, asks for the passphrase twice without echoing it', async () => {
    const home = join(work, 'prompted');
    const res = await onTerminal(['--home', home, 'key', 'generate', '--encrypt'], [
      ['New passphrase', 'typed at the terminal\r'],
      ['again', 'typed at the terminal\r'],
    ]);
    assert.equal(res.status, 0, res.output);
    assert.ok(!res.output.includes('typed at the terminal'), `echoed: ${res.output}`);
    const text = readFileSync(keyFilePath(home), 'utf8');
    const seed = await decryptSeed(parseEncryptedKey(text, 'k'), 'typed at the terminal', 'k');
    assert.equal(seed.length, 32);
    // Unlocking at a terminal: the prompt, then the public key.
    const show = await onTerminal(['--home', home, 'key', 'show'], []);
    assert.match(show.output, /encrypted key file/);
  });

  it('when an encrypted key signs at a terminal, asks for its passphrase once without echo, and a wrong one is refused', async () => {
    const home = join(work, 'prompted');
    const index = await startIndexServer({ projects: await fixtureProjects() });
    try {
      const args = ['--home', home, 'build', 'demo-tty==1.0.0', '-o', join(home, 'out'), '--index-url', index.url];
      const wrong = await onTerminal(args, [['Passphrase for', 'not it\r']]);
      assert.equal(wrong.status, 1, wrong.output);
      assert.match(wrong.output, /KEY_PASSPHRASE_WRONG/);
      const res = await onTerminal(args, [['Passphrase for', 'typed at the terminal\r']]);
      assert.equal(res.status, 0, res.output);
      assert.equal(res.output.split('Passphrase for').length - 1, 1);
      assert.ok(!res.output.includes('typed at the terminal'), `echoed: ${res.output}`);
      assert.ok(readdirSync(join(home, 'out')).some((f) => f.endsWith('.seal.json')));
    } finally {
      await index.close();
    }
  });

  it('when the two passphrases differ, writes nothing (USAGE, exit 2)', async () => {
    const home = join(work, 'mismatch');
    const res = await onTerminal(['--home', home, 'key', 'generate', '--encrypt'], [
      ['New passphrase', 'one thing\r'],
      ['again', 'another\r'],
    ]);
    assert.equal(res.status, 2, res.output);
    assert.match(res.output, /USAGE/);
    assert.ok(!existsSync(keyFilePath(home)));
  });
});
