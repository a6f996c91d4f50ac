import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { fixtureSdist } from '../helpers/projects.js';
import { runCli } from '../helpers/cli.js';
import { parseSeal, signedMessage, verifySeal, verifySignature } from '../../src/seal/index.js';
import { initSoftHsm, SOFTHSM_MODULE, type SoftHsm } from './softhsm.js';
import { makeVenv } from '../helpers/venv.js';

// pkcs11js straight, as an attacker with the PIN would use the token, to show what can and cannot be read.
const pkcs11js = createRequire(import.meta.url)('pkcs11js') as typeof import('pkcs11js');

let index: IndexServer;
let work: string;
let hsm: SoftHsm;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-pkcs11-'));
  const projects = projectsFromFolder(ensureWheelhouse());
  for (const v of ['1.0.0', '2.0.0']) {
    const sdist = await fixtureSdist(join(work, 'fixtures'), { backend: 'flit', name: 'demo-token', version: v });
    (projects['demo-token'] ??= []).push({ filename: sdist.split('/').pop()!, path: sdist });
  }
  index = await startIndexServer({ projects });
  hsm = initSoftHsm(join(work, 'hsm'));
});
after(async () => {
  await index?.close();
});

function sealed(home: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return runCli(['--json', '--home', home, ...args], { env: { ...hsm.env, ...env } });
}

/** Opens the token with the user PIN, runs `f`, closes. */
function withToken<T>(f: (m: InstanceType<typeof pkcs11js.PKCS11>, session: Buffer) => T): T {
  const saved = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = hsm.conf;
  const m = new pkcs11js.PKCS11();
  m.load(SOFTHSM_MODULE);
  m.C_Initialize();
  try {
    const slot = m.C_GetSlotList(true).find((s) => m.C_GetTokenInfo(s).label.trim() === hsm.label)!;
    const session = m.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    m.C_Login(session, pkcs11js.CKU_USER, hsm.pin);
    return f(m, session);
  } finally {
    m.C_Finalize();
    m.close();
    if (saved === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = saved;
  }
}

function privateKeyNamed(m: InstanceType<typeof pkcs11js.PKCS11>, session: Buffer, label: string): Buffer {
  m.C_FindObjectsInit(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_LABEL, value: label },
  ]);
  const [key] = m.C_FindObjects(session, 2);
  m.C_FindObjectsFinal(session);
  assert.ok(key, `no private key ${label} on the token`);
  return key;
}

function readPrivateValue(label: string): { ok: true; value: Buffer } | { ok: false; rv: string } {
  return withToken((m, s) => {
    try {
      return { ok: true as const, value: m.C_GetAttributeValue(s, privateKeyNamed(m, s, label), [{ type: pkcs11js.CKA_VALUE }])[0]!.value };
    } catch (e) {
      return { ok: false as const, rv: /CKR_[A-Z_]+/.exec((e as Error).message)?.[0] ?? String(e) };
    }
  });
}

describe('a signing key on a SoftHSM2 token (pkcs11: key URI)', () => {
  let publicKey: string;

  it('when generated with --key-uri, creates an Ed25519 key on the token and prints its public key', async () => {
    const res = await sealed(join(work, 'gen-home'), ['key', 'generate', '--key-uri', hsm.uri('seal-key')]);
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.json.kind, 'pkcs11');
    assert.match(res.json.public_key, /^ed25519:[0-9a-f]{64}$/);
    assert.equal(res.json.token.manufacturer, 'SoftHSM project');
    publicKey = res.json.public_key;
    // Nothing was written to the home: the key is only on the token.
    assert.ok(!existsSync(join(work, 'gen-home', 'key.ed25519')));
  });

  it('when the same label exists, refuses to create a second key (KEY_EXISTS) and the first stays', async () => {
    const res = await sealed(join(work, 'gen-home'), ['key', 'generate', '--key-uri', hsm.uri('seal-key')]);
    assert.equal(res.status, 2);
    assert.equal(res.json.error.code, 'KEY_EXISTS');
    const show = await sealed(join(work, 'gen-home'), ['key', 'show', '--key-uri', hsm.uri('seal-key')]);
    assert.equal(show.json.public_key, publicKey);
  });

  it('when shown, reads the public key from the token without any PIN', async () => {
    const res = await sealed(join(work, 'show-home'), ['key', 'show', '--key-uri', hsm.uri('seal-key', { pin: false })]);
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.json.kind, 'pkcs11');
    assert.equal(res.json.public_key, publicKey);
    assert.equal(res.json.token.label, hsm.label);
    assert.equal(res.json.token.model, 'SoftHSM v2');
  });

  it('when someone with the PIN tries to read the private key, the token refuses (CKR_ATTRIBUTE_SENSITIVE); an extractable key would be read', () => {
    // The attack first: a key made without Sealed's attributes gives its private value to anyone with the PIN.
    withToken((m, s) => {
      const a = (type: number, value: boolean | string | Buffer) => ({ type, value });
      m.C_GenerateKeyPair(
        s,
        { mechanism: 0x1055 },
        [a(pkcs11js.CKA_TOKEN, true), a(pkcs11js.CKA_VERIFY, true), a(pkcs11js.CKA_LABEL, 'careless'), a(pkcs11js.CKA_EC_PARAMS, Buffer.from('06032b6570', 'hex'))],
        [a(pkcs11js.CKA_TOKEN, true), a(pkcs11js.CKA_SIGN, true), a(pkcs11js.CKA_PRIVATE, true), a(pkcs11js.CKA_SENSITIVE, false), a(pkcs11js.CKA_EXTRACTABLE, true), a(pkcs11js.CKA_LABEL, 'careless')],
      );
    });
    const careless = readPrivateValue('careless');
    assert.ok(careless.ok && careless.value.length === 32, 'an extractable, non-sensitive key is readable');
    // The defence: the key Sealed created cannot be read out.
    const ours = readPrivateValue('seal-key');
    assert.deepEqual(ours, { ok: false, rv: 'CKR_ATTRIBUTE_SENSITIVE' });
    const attrs = withToken((m, s) =>
      m.C_GetAttributeValue(s, privateKeyNamed(m, s, 'seal-key'), [{ type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE }, { type: pkcs11js.CKA_ALWAYS_SENSITIVE }, { type: pkcs11js.CKA_NEVER_EXTRACTABLE }]),
    );
    assert.deepEqual(attrs.map((x) => x.value[0]), [1, 0, 1, 1]);
  });

  it('when SEALED_KEY names the token key, sealed build signs on the token; the seal verifies with the token public key and records the token', async () => {
    const home = join(work, 'build-home');
    const out = join(work, 'build-out');
    const res = await sealed(home, ['build', 'demo-token==1.0.0', '-o', out, '--index-url', index.url], { SEALED_KEY: hsm.uri('seal-key') });
    assert.equal(res.status, 0, res.stderr);
    assert.ok(!existsSync(join(home, 'key.ed25519')), 'no key file is created when a token signs');
    const seal = parseSeal(readFileSync(res.json.seal, 'utf8'));
    assert.equal(seal.signature.public_key, publicKey);
    // Verified independently of the seal's own key field: the token's public key over the signed message.
    const raw = Buffer.from(publicKey.slice('ed25519:'.length), 'hex');
    assert.ok(verifySignature(raw, signedMessage(seal.chain_hash, seal.records.length), Buffer.from(seal.signature.value, 'base64')));
    const summary = verifySeal(seal);
    assert.deepEqual(summary.signer, { kind: 'pkcs11', manufacturer: 'SoftHSM project', model: 'SoftHSM v2' });
    const check = await sealed(home, ['verify-seal', res.json.seal, '--artifact', res.json.wheel]);
    assert.equal(check.status, 0, check.stderr);
    assert.equal(check.json.key_kind.kind, 'pkcs11');
    const show = await runCli(['--home', home, 'show', 'demo-token']);
    assert.match(show.stdout, /PKCS #11 token \("SoftHSM project" "SoftHSM v2"\)/);
  });

  it('when the PIN is wrong, refuses before building (KEY_PIN_WRONG, exit 1) and writes nothing', async () => {
    const bad = join(work, 'bad-pin');
    writeFileSync(bad, '000000\n', { mode: 0o600 });
    const home = join(work, 'wrong-pin-home');
    const out = join(work, 'wrong-pin-out');
    // --key-uri (a global option) names the signer for any command, as SEALED_KEY does.
    const res = await sealed(home, ['build', 'demo-token==1.0.0', '-o', out, '--index-url', index.url, '--key-uri', hsm.uri('seal-key', { pin: bad })]);
    assert.equal(res.status, 1, res.stderr);
    assert.equal(res.json.error.code, 'KEY_PIN_WRONG');
    assert.ok(!existsSync(out) || readdirSync(out).length === 0);
    assert.ok(!JSON.stringify(res.json).includes('000000'), 'the PIN is never echoed');
  });

  it('when the PIN file is readable by others, refuses it (KEY_PERMISSIONS, exit 2)', async () => {
    const open = join(work, 'open-pin');
    writeFileSync(open, `${hsm.pin}\n`);
    chmodSync(open, 0o644);
    const res = await sealed(join(work, 'open-pin-home'), ['build', 'demo-token==1.0.0', '-o', join(work, 'open-pin-out'), '--index-url', index.url], { SEALED_KEY: hsm.uri('seal-key', { pin: open }) });
    assert.equal(res.status, 2, res.stderr);
    assert.equal(res.json.error.code, 'KEY_PERMISSIONS');
  });

  it('when no PIN source is given and there is no terminal, says how to give one (KEY_PIN_MISSING, exit 2)', async () => {
    const res = await sealed(join(work, 'no-pin-home'), ['build', 'demo-token==1.0.0', '-o', join(work, 'no-pin-out'), '--index-url', index.url], {
      SEALED_KEY: hsm.uri('seal-key', { pin: false }),
    });
    assert.equal(res.status, 2, res.stderr);
    assert.equal(res.json.error.code, 'KEY_PIN_MISSING');
    assert.match(res.json.error.hint, /pin-source=file:/);
  });

  it('when the token is missing, says which tokens are present (TOKEN_NOT_FOUND, exit 3)', async () => {
    const res = await sealed(join(work, 'missing-home'), ['key', 'show', '--key-uri', hsm.uri('seal-key', { token: 'not-plugged-in' })]);
    assert.equal(res.status, 3, res.stderr);
    assert.equal(res.json.error.code, 'TOKEN_NOT_FOUND');
    assert.match(res.json.error.message, /"sealed"/);
  });

  it('when the token holds no key of that label, says how to create one (TOKEN_KEY_NOT_FOUND, exit 2)', async () => {
    const res = await sealed(join(work, 'nokey-home'), ['key', 'show', '--key-uri', hsm.uri('no-such-key')]);
    assert.equal(res.status, 2, res.stderr);
    assert.equal(res.json.error.code, 'TOKEN_KEY_NOT_FOUND');
  });

  it('when the module path is wrong, fails clearly (PKCS11_UNAVAILABLE, exit 3)', async () => {
    const uri = hsm.uri('seal-key').replace(SOFTHSM_MODULE, '/nonexistent/libnothing.so');
    const res = await sealed(join(work, 'nomod-home'), ['key', 'show', '--key-uri', uri]);
    assert.equal(res.status, 3, res.stderr);
    assert.equal(res.json.error.code, 'PKCS11_UNAVAILABLE');
  });

  it('when pkcs11js is not installed, says how to get it (PKCS11_UNAVAILABLE, exit 3), and key files still work', async () => {
    // A resolve hook makes the optional module unfindable for this one process, as on a machine where it did not build.
    const hooks = join(work, 'no-pkcs11js-hooks.mjs');
    const register = join(work, 'no-pkcs11js.mjs');
    writeFileSync(hooks, `export async function resolve(spec, ctx, next) {\n  if (spec === 'pkcs11js') { const e = new Error("Cannot find package 'pkcs11js'"); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; }\n  return next(spec, ctx);\n}\n`);
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify('file://' + hooks)});\n`);
    const env = { NODE_OPTIONS: `--import=${register}` };
    const res = await sealed(join(work, 'nomodule-home'), ['key', 'show', '--key-uri', hsm.uri('seal-key')], env);
    assert.equal(res.status, 3, res.stderr);
    assert.equal(res.json.error.code, 'PKCS11_UNAVAILABLE');
    assert.match(res.json.error.hint, /npm install pkcs11js/);
    const file = await sealed(join(work, 'nomodule-home'), ['key', 'show'], env);
    assert.equal(file.status, 0, file.stderr);
    assert.equal(file.json.kind, 'file');
  });

  it('when the key URI is malformed, refuses it (MALFORMED_KEY_URI, exit 2)', async () => {
    for (const uri of ['pkcs11:token=sealed;object=k;frobnicate=1?module-path=/x.so', 'pkcs11:token=sealed;object=k?module-path=/x.so&pin-value=1234', 'sealkey', 'pkcs11:token=%zz;object=k?module-path=/x.so']) {
      const res = await sealed(join(work, 'bad-uri-home'), ['key', 'show', '--key-uri', uri]);
      assert.equal(res.status, 2, `${uri}: ${res.stderr}`);
      assert.equal(res.json.error.code, 'MALFORMED_KEY_URI', uri);
      assert.ok(!res.stdout.includes('1234'), 'a pin-value is never echoed');
    }
  });
});

describe('policy set --require-key-kind', () => {
  const venv = (label: string) => makeVenv(work, label);
  function installedVersion(python: string): string | null {
    try {
      return execFileSync(python, ['-c', 'import importlib.metadata as m; print(m.version("demo-token"))'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  }

  it('when the policy requires pkcs11, refuses a package sealed with a key file (KEY_KIND_REFUSED) and accepts one sealed on the token', async () => {
    const home = join(work, 'policy-home');
    const set = await sealed(home, ['policy', 'set', '--require-key-kind', 'pkcs11']);
    assert.equal(set.status, 0, set.stderr);
    assert.equal(set.json.require_key_kind, 'pkcs11');

    const python = venv('policy');
    const refused = await sealed(home, ['install', 'demo-token==2.0.0', '--index-url', index.url, '--python', python]);
    assert.equal(refused.status, 1, refused.stderr);
    assert.equal(refused.json.error.code, 'KEY_KIND_REFUSED');
    assert.equal(installedVersion(python), null, 'nothing installed');
    const pins = await sealed(home, ['registry', 'pins']);
    assert.equal(JSON.stringify(pins.json).includes('demo-token'), false, 'a refused attempt pins nothing');

    const accepted = await sealed(home, ['install', 'demo-token==2.0.0', '--index-url', index.url, '--python', python], { SEALED_KEY: hsm.uri('seal-key') });
    assert.equal(accepted.status, 0, accepted.stderr);
    assert.equal(installedVersion(python), '2.0.0');
    const verify = await sealed(home, ['verify', '--python', python]);
    assert.equal(verify.status, 0, verify.stderr);

    const any = await sealed(home, ['policy', 'set', '--require-key-kind', 'any']);
    assert.equal(any.json.require_key_kind, undefined);
    const bad = await sealed(home, ['policy', 'set', '--require-key-kind', 'hardware']);
    assert.equal(bad.status, 2);
    assert.equal(bad.json.error.code, 'USAGE');
  });
});
