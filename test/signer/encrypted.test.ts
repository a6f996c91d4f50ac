import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { createCipheriv, createHmac, randomBytes, scryptSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { fixtureSdist, writeProject } from '../helpers/projects.js';
import { runCli } from '../helpers/cli.js';
import { cliPath } from '../helpers/paths.js';
import { canonicalBytes } from '../../src/core/canonical.js';
import { isSealedError } from '../../src/errors.js';
import { formatPublicKey, keyFilePath, parseSeal, signedMessage, softwareKeyFromSeed, verifySignature } from '../../src/seal/index.js';
import { decryptSeed, encryptSeed, parseEncryptedKey } from '../../src/signer/encrypted.js';

let index: IndexServer;
let work: string;
let passFile: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-enckey-'));
  const projects = projectsFromFolder(ensureWheelhouse());
  const sdist = await fixtureSdist(join(work, 'fixtures'), { backend: 'flit', name: 'demo-enc', version: '1.0.0' });
  projects['demo-enc'] = [{ filename: sdist.split('/').pop()!, path: sdist }];
  index = await startIndexServer({ projects });
  passFile = join(work, 'passphrase');
  writeFileSync(passFile, 'correct horse battery staple\n', { mode: 0o600 });
});
after(async () => {
  await index?.close();
});

function sealed(home: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return runCli(['--json', '--home', home, ...args], { env });
}

function build(home: string, env: NodeJS.ProcessEnv) {
  return sealed(home, ['build', 'demo-enc==1.0.0', '-o', join(home, 'out'), '--index-url', index.url], env);
}

/** A home whose key is encrypted with the test passphrase; returns its public key. */
async function encryptedHome(label: string): Promise<{ home: string; publicKey: string }> {
  const home = join(work, label);
  const res = await sealed(home, ['key', 'generate', '--encrypt'], { SEALED_KEY_PASSPHRASE_FILE: passFile });
  assert.equal(res.status, 0, res.stderr);
  return { home, publicKey: res.json.public_key };
}

/**
 * The format as docs/keys.md describes it, written independently of src/signer: scrypt(passphrase, salt)
 * to 64 bytes, AES-256-GCM under the first 32 with the domain-tagged canonical header as associated data,
 * HMAC-SHA256 keyed by the last 32 over the check label.
 */
function fileFromTheDocs(seed: Buffer, passphrase: string, logN: number): string {
  const salt = randomBytes(32);
  const nonce = randomBytes(12);
  const header = {
    format: 'sealed-key',
    version: 1,
    public_key: formatPublicKey(softwareKeyFromSeed(seed, '').publicKey),
    kdf: { name: 'scrypt', log_n: logN, r: 8, p: 1, salt: salt.toString('base64') },
    cipher: { name: 'aes-256-gcm', nonce: nonce.toString('base64') },
  };
  const out = scryptSync(passphrase, salt, 64, { N: 2 ** logN, r: 8, p: 1, maxmem: 256 * 1024 * 1024 });
  const c = createCipheriv('aes-256-gcm', out.subarray(0, 32), nonce);
  c.setAAD(Buffer.concat([Buffer.from('sealed/v1/encrypted-key\0', 'utf8'), canonicalBytes(header)]));
  const ciphertext = Buffer.concat([c.update(seed), c.final()]);
  const check = createHmac('sha256', out.subarray(32)).update('sealed/v1/encrypted-key-check').digest();
  return JSON.stringify({ ...header, check: check.toString('base64'), ciphertext: ciphertext.toString('base64'), tag: c.getAuthTag().toString('base64') });
}

describe('encrypted key files (scrypt + AES-256-GCM)', () => {
  it('when encrypted and decrypted with the same passphrase, gives back the same key; the file holds no key in the clear', async () => {
    const seed = randomBytes(32);
    const text = await encryptSeed(seed, 'pass phrase');
    assert.ok(!text.includes(seed.toString('hex')) && !text.includes(seed.toString('base64')));
    const back = await decryptSeed(parseEncryptedKey(text, 'mem'), 'pass phrase', 'mem');
    assert.ok(back.equals(seed));
    // The same passphrase twice gives different files (fresh salt and nonce).
    assert.notEqual(await encryptSeed(seed, 'pass phrase'), text);
  });

  it('when a file is written exactly as docs/keys.md describes, Sealed reads it', async () => {
    const seed = randomBytes(32);
    const back = await decryptSeed(parseEncryptedKey(fileFromTheDocs(seed, 'pw', 17), 'doc'), 'pw', 'doc');
    assert.ok(back.equals(seed));
  });

  it('when the KDF parameters are below the floor, refuses the file before deriving anything (KEY_KDF_TOO_WEAK), though it is otherwise valid', async () => {
    const seed = randomBytes(32);
    const weak = fileFromTheDocs(seed, 'pw', 14);
    // Without the floor the weak file would simply work: it is well formed and the passphrase is right.
    const w = JSON.parse(weak) as { kdf: { salt: string } };
    assert.equal(scryptSync('pw', Buffer.from(w.kdf.salt, 'base64'), 64, { N: 2 ** 14, r: 8, p: 1 }).length, 64);
    assert.throws(() => parseEncryptedKey(weak, 'weak'), (e) => isSealedError(e, 'KEY_KDF_TOO_WEAK'));
    const home = join(work, 'weak-home');
    mkdirSync(home, { recursive: true, mode: 0o700 });
    writeFileSync(keyFilePath(home), weak, { mode: 0o600 });
    const res = await build(home, { SEALED_KEY_PASSPHRASE: 'pw' });
    assert.equal(res.status, 2, res.stderr);
    assert.equal(res.json.error.code, 'KEY_KDF_TOO_WEAK');
    for (const [field, value] of [['r', 1], ['p', 0]] as const) {
      const doc = JSON.parse(fileFromTheDocs(seed, 'pw', 17));
      doc.kdf[field] = value;
      assert.throws(() => parseEncryptedKey(JSON.stringify(doc), 'weak'), (e) => isSealedError(e, 'KEY_KDF_TOO_WEAK'), field);
    }
    // And a hostile file cannot ask for gigabytes.
    const huge = JSON.parse(fileFromTheDocs(seed, 'pw', 17));
    huge.kdf.log_n = 40;
    assert.throws(() => parseEncryptedKey(JSON.stringify(huge), 'huge'), (e) => isSealedError(e, 'MALFORMED_KEY'));
  });

  it('when generated with --encrypt, key show needs no passphrase and sealed build signs with it, recording an encrypted-file key', async () => {
    const { home, publicKey } = await encryptedHome('roundtrip-home');
    const file = readFileSync(keyFilePath(home), 'utf8');
    assert.equal(JSON.parse(file).format, 'sealed-key');
    const show = await sealed(home, ['key', 'show']);
    assert.equal(show.status, 0, show.stderr);
    assert.equal(show.json.kind, 'encrypted-file');
    assert.equal(show.json.public_key, publicKey);
    assert.deepEqual(show.json.kdf, { name: 'scrypt', log_n: 17, r: 8, p: 1 });

    const res = await build(home, { SEALED_KEY_PASSPHRASE_FILE: passFile });
    assert.equal(res.status, 0, res.stderr);
    const seal = parseSeal(readFileSync(res.json.seal, 'utf8'));
    assert.equal(seal.signature.public_key, publicKey);
    const raw = Buffer.from(publicKey.slice(8), 'hex');
    assert.ok(verifySignature(raw, signedMessage(seal.chain_hash, seal.records.length), Buffer.from(seal.signature.value, 'base64')));
    const env = seal.records.find((r) => r.type === 'environment')!.body as { signer?: unknown; env_vars: Record<string, unknown> };
    assert.deepEqual(env.signer, { kind: 'encrypted-file' });
    assert.ok(!JSON.stringify(seal).includes('correct horse'), 'the passphrase is not in the seal');
    assert.ok(!res.stderr.includes('correct horse') && !res.stdout.includes('correct horse'));
    const check = await sealed(home, ['verify-seal', res.json.seal]);
    assert.deepEqual(check.json.key_kind, { kind: 'encrypted-file' });
    // SEALED_KEY_PASSPHRASE in the environment too: still only recorded as present.
    const viaEnv = await build(join(work, 'roundtrip-home'), { SEALED_KEY_PASSPHRASE: 'correct horse battery staple' });
    assert.equal(viaEnv.status, 0, viaEnv.stderr);
    assert.ok(!readFileSync(viaEnv.json.seal, 'utf8').includes('correct horse'));
  });

  it('when the passphrase is wrong, refuses before building (KEY_PASSPHRASE_WRONG, exit 1) and writes nothing', async () => {
    const { home } = await encryptedHome('wrong-home');
    const res = await build(home, { SEALED_KEY_PASSPHRASE: 'incorrect horse' });
    assert.equal(res.status, 1, res.stderr);
    assert.equal(res.json.error.code, 'KEY_PASSPHRASE_WRONG');
    assert.ok(!existsSync(join(home, 'out')));
    assert.ok(!res.stdout.includes('incorrect horse') && !res.stderr.includes('incorrect horse'));
  });

  it('when no passphrase is given and there is no terminal, says every way to give one (KEY_PASSPHRASE_MISSING, exit 2)', async () => {
    const { home } = await encryptedHome('missing-home');
    const res = await build(home, {});
    assert.equal(res.status, 2, res.stderr);
    assert.equal(res.json.error.code, 'KEY_PASSPHRASE_MISSING');
    assert.match(res.json.error.hint, /SEALED_KEY_PASSPHRASE_FILE/);
    assert.match(res.json.error.hint, /SEALED_KEY_PASSPHRASE\b/);
    const gen = await sealed(join(work, 'missing-gen'), ['key', 'generate', '--encrypt']);
    assert.equal(gen.status, 2);
    assert.equal(gen.json.error.code, 'KEY_PASSPHRASE_MISSING');
    assert.ok(!existsSync(keyFilePath(join(work, 'missing-gen'))), 'no key written without a passphrase');
    // An existing key is never replaced without --force, and that is said before any passphrase is asked for.
    const keep = readFileSync(keyFilePath(home), 'utf8');
    const over = await sealed(home, ['key', 'generate', '--encrypt']);
    assert.equal(over.json.error.code, 'KEY_EXISTS');
    assert.equal(readFileSync(keyFilePath(home), 'utf8'), keep);
  });

  it('when the file is truncated, refuses it (MALFORMED_KEY, exit 2)', async () => {
    const { home } = await encryptedHome('truncated-home');
    const text = readFileSync(keyFilePath(home), 'utf8');
    for (const cut of [text.length - 20, Math.floor(text.length / 2), 1]) {
      writeFileSync(keyFilePath(home), text.slice(0, cut), { mode: 0o600 });
      const res = await build(home, { SEALED_KEY_PASSPHRASE_FILE: passFile });
      assert.equal(res.status, 2, res.stderr);
      assert.equal(res.json.error.code, 'MALFORMED_KEY', `cut at ${cut}`);
    }
    // A ciphertext cut short inside otherwise whole JSON.
    const doc = JSON.parse(text);
    doc.ciphertext = Buffer.from(doc.ciphertext, 'base64').subarray(0, 16).toString('base64');
    assert.throws(() => parseEncryptedKey(JSON.stringify(doc), 'cut'), (e) => isSealedError(e, 'MALFORMED_KEY'));
  });

  it('when the header or the ciphertext was changed, the AEAD refuses it (KEY_FILE_TAMPERED, exit 1); key show alone would believe the header', async () => {
    const { home, publicKey } = await encryptedHome('tamper-home');
    const original = readFileSync(keyFilePath(home), 'utf8');
    const other = formatPublicKey(softwareKeyFromSeed(randomBytes(32), '').publicKey);
    const edits: [string, (d: Record<string, any>) => void][] = [
      ['public key in the header', (d) => (d.public_key = other)],
      ['ciphertext', (d) => (d.ciphertext = flip(d.ciphertext))],
      ['tag', (d) => (d.tag = flip(d.tag))],
      ['nonce', (d) => (d.cipher.nonce = flip(d.cipher.nonce))],
      ['salt', (d) => (d.kdf.salt = flip(d.kdf.salt))],
    ];
    for (const [what, edit] of edits) {
      const doc = JSON.parse(original);
      edit(doc);
      writeFileSync(keyFilePath(home), JSON.stringify(doc), { mode: 0o600 });
      if (what === 'public key in the header') {
        // The attack: `key show` reads the header without the passphrase, so it shows the substituted key...
        const show = await sealed(home, ['key', 'show']);
        assert.equal(show.json.public_key, other);
      }
      // ...but nothing is ever signed with it: unlocking checks the header with the AEAD.
      const res = await build(home, { SEALED_KEY_PASSPHRASE_FILE: passFile });
      const expected = what === 'salt' ? 'KEY_PASSPHRASE_WRONG' : 'KEY_FILE_TAMPERED';
      assert.equal(res.json?.error?.code, expected, `${what}: ${res.stderr}`);
      assert.equal(res.status, 1);
    }
    writeFileSync(keyFilePath(home), original, { mode: 0o600 });
    assert.equal((await sealed(home, ['key', 'show'])).json.public_key, publicKey);
  });

  it('when the encrypted file is readable by others, refuses to sign with it (KEY_PERMISSIONS)', async () => {
    const { home } = await encryptedHome('perm-home');
    chmodSync(keyFilePath(home), 0o644);
    const res = await build(home, { SEALED_KEY_PASSPHRASE_FILE: passFile });
    assert.equal(res.status, 2);
    assert.equal(res.json.error.code, 'KEY_PERMISSIONS');
  });

  it('when the passphrase file is readable by others, refuses it (KEY_PERMISSIONS) and never prints its content', async () => {
    const { home } = await encryptedHome('passperm-home');
    const open = join(work, 'open-passphrase');
    writeFileSync(open, 'correct horse battery staple\n', { mode: 0o644 });
    chmodSync(open, 0o644);
    const res = await build(home, { SEALED_KEY_PASSPHRASE_FILE: open });
    assert.equal(res.status, 2, res.stderr);
    assert.equal(res.json.error.code, 'KEY_PERMISSIONS');
    assert.ok(!res.stdout.includes('correct horse'));
  });
});

function flip(b64: string): string {
  const b = Buffer.from(b64, 'base64');
  b[0] = (b[0] ?? 0) ^ 1;
  return b.toString('base64');
}

describe('the build backend and the key', () => {
  it('when the passphrase is in the environment, the backend (untrusted code) does not see it, though it sees other variables', async () => {
    const { home } = await encryptedHome('backend-env-home');
    const project = writeProject(join(work, 'env-project'), { backend: 'setuptools', name: 'demo-envdump', version: '1.0.0' });
    // setup.py runs inside the backend: it writes the environment it was given into the wheel.
    writeFileSync(join(project, 'setup.py'), 'import os\nopen("demo_envdump/seen.py", "w").write("ENV = " + repr(dict(os.environ)))\nfrom setuptools import setup\nsetup()\n');
    const res = await sealed(home, ['build', project, '-o', join(home, 'out'), '--index-url', index.url], {
      SEALED_KEY_PASSPHRASE: 'correct horse battery staple',
      // A build-affecting variable: the sandbox passes these (and only these) to the backend.
      CFLAGS: '-DCANARY=the-canary-sings',
    });
    assert.equal(res.status, 0, res.stderr);
    const seen = execFileSync('python3', ['-c', 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read("demo_envdump/seen.py").decode())', res.json.wheel], { encoding: 'utf8' });
    // The attack path is real: what Sealed's environment holds reaches the backend...
    assert.match(seen, /the-canary-sings/);
    // ...except what unlocks the key.
    assert.doesNotMatch(seen, /correct horse/);
    assert.doesNotMatch(seen, /SEALED_KEY/);
  });
});

describe('sealed key encrypt (in place)', () => {
  it('when run, keeps the same public key, leaves no plaintext and no temporary file, and refuses a second run', async () => {
    const home = join(work, 'convert-home');
    const first = await sealed(home, ['key', 'show']);
    assert.equal(first.json.kind, 'file');
    const plaintext = readFileSync(keyFilePath(home), 'utf8').trim();
    const res = await sealed(home, ['key', 'encrypt'], { SEALED_KEY_PASSPHRASE_FILE: passFile });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.json.kind, 'encrypted-file');
    assert.equal(res.json.public_key, first.json.public_key);
    const text = readFileSync(keyFilePath(home), 'utf8');
    assert.ok(!text.includes(plaintext));
    assert.deepEqual(readdirSync(home).filter((f) => f.includes('.tmp')), []);
    const again = await sealed(home, ['key', 'encrypt'], { SEALED_KEY_PASSPHRASE_FILE: passFile });
    assert.equal(again.status, 2);
    assert.equal(again.json.error.code, 'USAGE');
  });

  it('when killed halfway, the old plaintext key is still there and still signs; a second run completes', async () => {
    const home = join(work, 'killed-home');
    const before = await sealed(home, ['key', 'show']);
    const plaintext = readFileSync(keyFilePath(home), 'utf8');
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SEALED_')) env[k] = v;
    const child = spawn(process.execPath, [cliPath(), '--home', home, 'key', 'encrypt'], { env: { ...env, SEALED_KEY_PASSPHRASE_FILE: passFile }, stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // Kill it while the encrypted copy exists beside the key but has not replaced it: it is being
    // read back and decrypted (a whole scrypt run), so the window is wide.
    let sawTemp = false;
    while (child.exitCode === null && !sawTemp) {
      sawTemp = readdirSync(home).some((f) => f.includes('.encrypting.'));
      if (!sawTemp) await new Promise((r) => setImmediate(r));
    }
    child.kill('SIGKILL');
    await exited;
    assert.ok(sawTemp, 'the conversion was caught halfway');
    assert.equal(readFileSync(keyFilePath(home), 'utf8'), plaintext, 'the key file is untouched');
    const after = await sealed(home, ['key', 'show']);
    assert.equal(after.json.kind, 'file');
    assert.equal(after.json.public_key, before.json.public_key);
    const built = await build(home, {});
    assert.equal(built.status, 0, built.stderr);
    assert.equal(parseSeal(readFileSync(built.json.seal, 'utf8')).signature.public_key, before.json.public_key);
    const done = await sealed(home, ['key', 'encrypt'], { SEALED_KEY_PASSPHRASE_FILE: passFile });
    assert.equal(done.status, 0, done.stderr);
    assert.equal(done.json.public_key, before.json.public_key);
  });
});
