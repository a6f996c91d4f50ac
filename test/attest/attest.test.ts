// Attestations of seals, checked by an independent verifier (securesystemslib + in-toto-attestation)
// and read back by `sealed verify-seal`; hostile envelopes each refused with a code and an exit status.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSeal, testKey } from '../helpers/seals.js';
import { runCli } from '../helpers/cli.js';
import { serializeSeal, signMessage, type Seal } from '../../src/seal/index.js';
import { dssePae } from '../../src/core/messages.js';
import { renderAttestation, sslibKeyid, verifyAttestationText, provenanceStatement, type Envelope } from '../../src/attest/index.js';
import { isSealedError } from '../../src/errors.js';
import { inTotoVerifyLink, line, payloadOf, pythonVerify, resign, sigstoreJsVerify } from './helpers.js';

const keyA = testKey('attest-a');
const keyB = testKey('attest-b');
const hexA = keyA.publicKey.toString('hex');
const signerA = { publicKey: keyA.publicKey, sign: (m: Buffer) => signMessage(keyA, m) };
let dir: string;
let seal: Seal;
let envelope: Envelope;

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** The home with key A, as the one that made the seals. */
function homeWithKeyA(): string {
  const home = mkdtempSync(join(dir, 'home-'));
  writeFileSync(join(home, 'key.ed25519'), Buffer.from(keyA.privateKey.export({ format: 'jwk' }).d as string, 'base64url').toString('hex') + '\n', { mode: 0o600 });
  return home;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sealed-attest-'));
  seal = makeSeal({ key: keyA, name: 'demo-pkg', version: '1.0.0' });
  envelope = JSON.parse(renderAttestation(seal, signerA, 'dsse')) as Envelope;
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('when DSSE bytes are made', () => {
  it('PAE is the DSSE v1 encoding (the spec example)', () => {
    assert.equal(dssePae('http://example.com/HelloWorld', Buffer.from('hello world')).toString(), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
    // Lengths count bytes, not characters.
    assert.equal(dssePae('t', Buffer.from('é')).toString('hex'), Buffer.from('DSSEv1 1 t 2 é').toString('hex'));
  });

  it('the keyid is the one securesystemslib computes for the key', () => {
    const p = write('keyid.jsonl', line(envelope));
    const v = pythonVerify(p, hexA);
    assert.ok(v.ok, JSON.stringify(v));
    assert.equal(v.lines[0]!.keyid, sslibKeyid(keyA.publicKey));
    assert.equal(envelope.signatures[0]!.keyid, sslibKeyid(keyA.publicKey));
  });

  it('the same seal and key give the same envelope, byte for byte', () => {
    assert.equal(renderAttestation(seal, signerA, 'dsse'), line(envelope));
  });
});

describe('when the independent verifier reads what Sealed writes', () => {
  it('the DSSE envelope verifies and its predicate parses as SLSA Provenance v1 with unknown fields refused', () => {
    const v = pythonVerify(write('ok.intoto.jsonl', line(envelope)), hexA, ['--subject-sha256', (seal.records.at(-1)!.body as { sha256: string }).sha256]);
    assert.ok(v.ok, JSON.stringify(v));
    assert.equal(v.lines[0]!.subject, 'demo_pkg-1.0.0-py3-none-any.whl');
  });

  it('the Sigstore bundle and the in-toto link verify', () => {
    assert.ok(pythonVerify(write('b.sigstore.json', renderAttestation(seal, signerA, 'sigstore-bundle')), hexA).ok);
    const link = pythonVerify(write('l.link', renderAttestation(seal, signerA, 'in-toto-link')), hexA, ['--link']);
    assert.ok(link.ok, JSON.stringify(link));
    assert.deepEqual(Object.keys(link.lines[0]!.products), ['demo_pkg-1.0.0-py3-none-any.whl']);
    assert.deepEqual(Object.keys(link.lines[0]!.materials), ['demo_pkg-1.0.0.tar.gz']);
  });

  it('sigstore-js verifies the bundle with the public key alone, and refuses a changed payload or another key', () => {
    const text = renderAttestation(seal, signerA, 'sigstore-bundle');
    const ok = sigstoreJsVerify(write('js.sigstore.json', text), hexA);
    assert.ok(ok.ok, ok.out);
    assert.equal(ok.hint, sslibKeyid(keyA.publicKey));
    const b = JSON.parse(text);
    const statement = payloadOf(b.dsseEnvelope);
    statement.subject[0].name = 'evil-1.0.0-py3-none-any.whl';
    b.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    const tampered = sigstoreJsVerify(write('js-tampered.sigstore.json', JSON.stringify(b)), hexA);
    assert.equal(tampered.ok, false);
    assert.match(tampered.out, /SIGNATURE_ERROR/);
    assert.equal(sigstoreJsVerify(write('js-other.sigstore.json', text), keyB.publicKey.toString('hex')).ok, false);
  });

  it('in-toto verifies the link against a layout naming the key, the sdist and the wheel, and refuses another wheel', () => {
    const p = write('build.link', renderAttestation(seal, signerA, 'in-toto-link'));
    const ok = inTotoVerifyLink(p, hexA, 'demo_pkg-1.0.0.tar.gz', 'demo_pkg-1.0.0-py3-none-any.whl', join(dir, 'layout-ok'));
    assert.ok(ok.ok, ok.out);
    const other = inTotoVerifyLink(p, hexA, 'demo_pkg-1.0.0.tar.gz', 'evil-1.0.0-py3-none-any.whl', join(dir, 'layout-other'));
    assert.equal(other.ok, false);
    assert.match(other.out, /RuleVerificationError/);
    const wrongKey = inTotoVerifyLink(p, keyB.publicKey.toString('hex'), 'demo_pkg-1.0.0.tar.gz', 'demo_pkg-1.0.0-py3-none-any.whl', join(dir, 'layout-key'));
    assert.equal(wrongKey.ok, false);
  });

  it('a tampered payload, another key and a changed subject digest are refused by it', () => {
    const statement = payloadOf(envelope);
    statement.subject[0].digest.sha256 = 'f'.repeat(64);
    const tampered = { ...envelope, payload: Buffer.from(JSON.stringify(statement)).toString('base64') };
    const t = pythonVerify(write('tampered.jsonl', line(tampered)), hexA);
    assert.equal(t.ok, false);
    assert.match(t.lines[0]!.error, /VerificationError/);
    const other = pythonVerify(write('other-key.jsonl', line(envelope)), keyB.publicKey.toString('hex'));
    assert.equal(other.ok, false);
    const subject = pythonVerify(write('subject.jsonl', line(envelope)), hexA, ['--subject-sha256', 'e'.repeat(64)]);
    assert.equal(subject.ok, false);
    assert.match(subject.lines[0]!.error, /subject sha256/);
  });

  it('a misspelled predicate field fails the schema even though the signature is good', () => {
    const statement = payloadOf(envelope);
    statement.predicate.buildDefinition.resolvedDependecies = statement.predicate.buildDefinition.resolvedDependencies;
    delete statement.predicate.buildDefinition.resolvedDependencies;
    const p = write('misspelled.jsonl', line(resign(statement, keyA)));
    const v = pythonVerify(p, hexA);
    assert.equal(v.ok, false);
    assert.match(v.lines[0]!.error, /ParseError.*resolvedDependecies/);
    assert.throws(() => verifyAttestationText(readFileSync(p, 'utf8'), p), (e) => isSealedError(e, 'MALFORMED_ATTESTATION'));
  });
});

describe('when verify-seal reads an attestation back', () => {
  it('reports the same facts as the seal, compares the seal beside it, and checks the artifact', async () => {
    const sub = join(dir, 'round');
    mkdirSync(sub);
    const wheel = join(sub, 'demo_pkg-1.0.0-py3-none-any.whl');
    const att = `${wheel}.intoto.jsonl`;
    writeFileSync(att, line(envelope));
    const alone = await runCli(['--json', '--home', join(dir, 'nohome'), 'verify-seal', att]);
    assert.equal(alone.status, 0, alone.stderr);
    assert.equal(alone.json.envelopes[0].seal_checked, false);
    assert.equal(existsSync(join(dir, 'nohome')), false, 'verify-seal creates no home and no registry');
    writeFileSync(`${wheel}.seal.json`, serializeSeal(seal));
    const res = await runCli(['--json', 'verify-seal', att]);
    assert.equal(res.status, 0, res.stderr);
    const e = res.json.envelopes[0];
    assert.equal(e.seal_checked, true);
    assert.equal(e.chain_hash, seal.chain_hash);
    assert.equal(e.signer.fingerprint, seal.signature.fingerprint);
    assert.equal(e.subject.sha256, (seal.records.at(-1)!.body as { sha256: string }).sha256);
    const sealRes = await runCli(['--json', 'verify-seal', `${wheel}.seal.json`]);
    assert.equal(sealRes.json.chain_hash, e.chain_hash);
    assert.equal(sealRes.json.signer.public_key, e.signer.public_key);
    assert.deepEqual(sealRes.json.package, e.package);
    assert.equal(sealRes.json.source_sha256, e.source_sha256);
    assert.equal(sealRes.json.artifact.sha256, e.subject.sha256);
    assert.equal(sealRes.json.artifact.filename, e.subject.name);

    writeFileSync(wheel, 'not the wheel');
    const wrong = await runCli(['--json', 'verify-seal', att, '--artifact', wheel]);
    assert.equal(wrong.status, 1);
    assert.equal(wrong.json.error.code, 'ARTIFACT_MISMATCH');
  });

  it('an attestation of another build by the same key does not pass as this seal\'s', async () => {
    const other = makeSeal({ key: keyA, name: 'demo-pkg', version: '1.0.0', build: 2 });
    const sealPath = write('other.seal.json', serializeSeal(other));
    const att = write('this.intoto.jsonl', line(envelope));
    const res = await runCli(['--json', 'verify-seal', att, '--seal', sealPath]);
    assert.equal(res.status, 1);
    assert.equal(res.json.error.code, 'ATTESTATION_MISMATCH');
  });

  it('a seal looked up in the registry by chain hash is compared', async () => {
    const home = homeWithKeyA();
    const sealPath = write('stored.seal.json', serializeSeal(seal));
    const imported = await runCli(['--home', home, 'registry', 'import', await exportOf(home, sealPath)]);
    assert.equal(imported.status, 0, imported.stderr);
    const res = await runCli(['--json', '--home', home, 'verify-seal', write('lone.json', JSON.stringify(envelope))]);
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.json.envelopes[0].seal_checked, true);
  });
});

/** An export document holding one seal, for `registry import`. */
async function exportOf(_home: string, sealPath: string): Promise<string> {
  const doc = { format: 'sealed-export', version: 1, exported_at: '2026-01-01T00:00:00Z', package: null, seals: [JSON.parse(readFileSync(sealPath, 'utf8'))], pins: [], revocations: [] };
  return write('export.json', JSON.stringify(doc));
}

describe('when an envelope is hostile', () => {
  const statement = () => payloadOf(envelope);
  const cases: { name: string; text: () => string; code: string; status: number; withoutDefence?: () => void }[] = [
    { name: 'a wrong payloadType', text: () => line(resign(statement(), keyA, 'application/json')), code: 'MALFORMED_ATTESTATION', status: 2 },
    {
      name: 'two subjects',
      text: () => {
        const s = statement();
        s.subject.push({ name: 'evil-1.0-py3-none-any.whl', digest: { sha256: 'a'.repeat(64) } });
        return line(resign(s, keyA));
      },
      code: 'MALFORMED_ATTESTATION',
      status: 2,
    },
    { name: 'base64 garbage in the payload', text: () => line({ ...envelope, payload: '!!not base64!!' }), code: 'MALFORMED_ATTESTATION', status: 2 },
    { name: 'base64 with junk after it', text: () => line({ ...envelope, payload: envelope.payload + '@@' }), code: 'MALFORMED_ATTESTATION', status: 2 },
    {
      name: 'a signature by another key under this key\'s keyid',
      text: () => line({ ...resign(Buffer.from(envelope.payload, 'base64').toString('utf8'), keyB), signatures: [{ keyid: envelope.signatures[0]!.keyid, sig: resign(Buffer.from(envelope.payload, 'base64').toString('utf8'), keyB).signatures[0]!.sig }] }),
      code: 'SIGNATURE_INVALID',
      status: 1,
    },
    {
      name: 'a signature by another key under its own keyid',
      text: () => line(resign(Buffer.from(envelope.payload, 'base64').toString('utf8'), keyB)),
      code: 'ATTESTATION_KEYID_MISMATCH',
      status: 1,
    },
    {
      name: 'a keyid that lies (the signature is good)',
      text: () => line({ ...envelope, signatures: [{ keyid: sslibKeyid(keyB.publicKey), sig: envelope.signatures[0]!.sig }] }),
      code: 'ATTESTATION_KEYID_MISMATCH',
      status: 1,
    },
    {
      name: 'a bundle whose key hint lies',
      text: () => {
        const b = JSON.parse(renderAttestation(seal, signerA, 'sigstore-bundle'));
        b.verificationMaterial.publicKey.hint = sslibKeyid(keyB.publicKey);
        return JSON.stringify(b);
      },
      code: 'ATTESTATION_KEYID_MISMATCH',
      status: 1,
    },
    {
      name: 'a key named twice in the envelope',
      text: () => `{"payloadType":"${envelope.payloadType}","payload":"${envelope.payload}","payload":"${resign({ evil: true }, keyA).payload}","signatures":${JSON.stringify(envelope.signatures)}}\n`,
      code: 'MALFORMED_ATTESTATION',
      status: 2,
    },
    {
      name: 'a key named twice in the statement',
      text: () => {
        const s = JSON.stringify(statement());
        const evil = s.replace('"subject":', `"subject":[{"name":"evil-1.0-py3-none-any.whl","digest":{"sha256":"${'b'.repeat(64)}"}}],"subject":`);
        return line(resign(evil, keyA));
      },
      code: 'MALFORMED_ATTESTATION',
      status: 2,
    },
    {
      name: 'an envelope with a second signature',
      text: () => line({ ...envelope, signatures: [...envelope.signatures, ...resign('x', keyB).signatures] }),
      code: 'MALFORMED_ATTESTATION',
      status: 2,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: refused (${c.code}, exit ${c.status}), nothing stored`, async () => {
      const home = homeWithKeyA();
      const p = write(`hostile-${c.name.replace(/[^a-z]+/g, '-')}.intoto.jsonl`, c.text());
      const res = await runCli(['--json', '--home', home, 'verify-seal', p]);
      assert.equal(res.status, c.status, res.stdout + res.stderr);
      assert.equal(res.json.ok, false);
      assert.equal(res.json.error.code, c.code);
      assert.equal(existsSync(join(home, 'registry.db')), false, 'nothing stored');
    });
  }

  it('a subject name with terminal control characters is printed escaped', async () => {
    const s = payloadOf(envelope);
    s.subject[0].name = '\u001b[2J\u001b[31mevil.whl';
    const res = await runCli(['verify-seal', write('escape.intoto.jsonl', line(resign(s, keyA)))]);
    assert.equal(res.status, 0, res.stderr);
    assert.ok(!res.stdout.includes('\u001b'), 'no raw escape reaches the terminal');
    assert.match(res.stdout, /\\u001b\[2J/);
  });

  it('the duplicate-key statement would otherwise be read as the later subject', () => {
    // The attack without the defence: JSON.parse keeps the last value, another parser may keep the first.
    const s = JSON.stringify(payloadOf(envelope));
    const evil = s.replace('"subject":', `"subject":[{"name":"evil","digest":{"sha256":"${'b'.repeat(64)}"}}],"subject":`);
    assert.equal(JSON.parse(evil).subject[0].name, 'demo_pkg-1.0.0-py3-none-any.whl');
    assert.throws(() => verifyAttestationText(line(resign(evil, keyA)), 'x'), (e) => isSealedError(e, 'MALFORMED_ATTESTATION'));
  });

  it('a statement re-signed by another key that names itself passes alone but not against the roster or the seal', async () => {
    const s = provenanceStatement(makeSeal({ key: keyB, name: 'demo-pkg', version: '1.0.0' }), '0.1.0');
    const p = write('by-b.intoto.jsonl', line(resign(s, keyB)));
    const alone = await runCli(['--json', 'verify-seal', p]);
    assert.equal(alone.status, 0, 'a valid attestation by key B: who B is, is the roster\'s or the seal\'s question');
    const roster = write('roster.txt', `ed25519:${hexA}\n`);
    const res = await runCli(['--json', 'verify-seal', p, '--trusted-keys', roster]);
    assert.equal(res.status, 1);
    assert.equal(res.json.error.code, 'UNTRUSTED_SIGNER');
    const vsSeal = await runCli(['--json', 'verify-seal', p, '--seal', write('a.seal.json', serializeSeal(seal))]);
    assert.equal(vsSeal.json.error.code, 'ATTESTATION_MISMATCH');
  });
});

describe('when sealed attest renders a seal', () => {
  it('writes each form with -o, signed by the home\'s key, verifiable by the independent verifier', async () => {
    const home = homeWithKeyA();
    const sealPath = write('attest-me.seal.json', serializeSeal(seal));
    for (const format of ['dsse', 'sigstore-bundle', 'in-toto-link']) {
      const out = join(dir, `attest-${format}.json`);
      const res = await runCli(['--json', '--home', home, 'attest', sealPath, '--format', format, '-o', out]);
      assert.equal(res.status, 0, res.stderr);
      assert.equal(res.json.keyid, sslibKeyid(keyA.publicKey));
      assert.ok(pythonVerify(out, hexA, format === 'in-toto-link' ? ['--link'] : []).ok, format);
    }
    const printed = await runCli(['--home', home, 'attest', sealPath]);
    assert.equal(printed.stdout, line(envelope));
  });

  it('refuses a seal made by another key, an unknown format and a broken seal', async () => {
    const home = homeWithKeyA();
    const byB = write('by-b.seal.json', serializeSeal(makeSeal({ key: keyB })));
    const other = await runCli(['--json', '--home', home, 'attest', byB]);
    assert.equal(other.status, 1);
    assert.equal(other.json.error.code, 'UNTRUSTED_SIGNER');
    const fmt = await runCli(['--json', '--home', home, 'attest', byB, '--format', 'xml']);
    assert.equal(fmt.status, 2);
    assert.equal(fmt.json.error.code, 'USAGE');
    const broken = structuredClone(seal);
    (broken.records.at(-1)!.body as { size: number }).size += 1;
    const b = await runCli(['--json', '--home', home, 'attest', write('broken.seal.json', serializeSeal(broken))]);
    assert.equal(b.status, 1);
    assert.equal(b.json.error.code, 'CHAIN_BROKEN');
  });
});

describe('when untrusted JSON and base64 are read', () => {
  it('a key named twice is found however it is escaped, at any depth, and keys in sibling objects are not confused', async () => {
    const { duplicateKey } = await import('../../src/attest/json.js');
    assert.equal(duplicateKey('{"a":1,"\\u0061":2}'), 'a');
    assert.equal(duplicateKey('{"x":[{"k":1},{"k":2}],"y":{"k":{"k":1}}}'), null);
    assert.equal(duplicateKey('{"x":[{"k":1,"k":2}]}'), 'k');
    assert.equal(duplicateKey('{"s":"a \\" , \\"s\\":","t":1}'), null, 'quotes and commas inside strings are not structure');
    assert.equal(duplicateKey('{"s":"\\\\","s":1}'), 's');
  });

  it('base64 must round-trip: standard or URL-safe, padded or not, no junk, no bad padding', async () => {
    const { decodeBase64Strict } = await import('../../src/attest/json.js');
    assert.equal(decodeBase64Strict('aGk=', 'x').toString(), 'hi');
    assert.equal(decodeBase64Strict('-_8', 'x').toString('hex'), 'fbff');
    assert.equal(decodeBase64Strict('aGk', 'x').toString(), 'hi');
    for (const bad of ['', 'aG k=', 'aGk=\n', 'aGl=', 'a===', '*']) {
      assert.throws(() => decodeBase64Strict(bad, 'x'), (e) => isSealedError(e, 'MALFORMED_ATTESTATION'), JSON.stringify(bad));
    }
  });
});
