// Signing one seal with each kind of signer, against the plaintext key file in the same run.
// Opening is timed apart from signing: an encrypted key pays its KDF (scrypt) once per process when it
// is unlocked, a token pays its module load and login once; then every seal costs one signature.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSeal } from '../src/seal/index.js';
import { generateKey, openSigner, signingKeyOf, type Signer, type SignerOptions } from '../src/signer/index.js';
import { sealRecords } from '../test/helpers/seals.js';
import { initSoftHsm } from '../test/signer/softhsm.js';
import { median } from './lib.js';

const SEALS = Number(process.env.SEALED_BENCH_SEALS ?? 200);
const OPENS = Number(process.env.SEALED_BENCH_OPENS ?? 3);
const records = sealRecords({ name: 'bench-pkg', version: '1.0.0' });
const quiet = { interactive: false, ask: async () => '', say: () => undefined };

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function measure(label: string, o: SignerOptions): Promise<{ open: number; seal: number }> {
  const opens: number[] = [];
  let signer: Signer | undefined;
  for (let i = 0; i < OPENS; i++) {
    signer?.close();
    const t = process.hrtime.bigint();
    signer = await openSigner(o);
    opens.push(ms(t));
  }
  const key = signingKeyOf(signer!);
  const times: number[] = [];
  for (let i = 0; i < SEALS; i++) {
    const t = process.hrtime.bigint();
    createSeal(records, key);
    times.push(ms(t));
  }
  signer!.close();
  const r = { open: median(opens), seal: median(times) };
  console.log(`${label}: unlock/open ${r.open.toFixed(1)} ms (median of ${OPENS}) | one seal ${r.seal.toFixed(3)} ms (median of ${SEALS})`);
  return r;
}

const dir = mkdtempSync(join(tmpdir(), 'sealed-bench-sign-'));
const plainHome = join(dir, 'plain');
const encHome = join(dir, 'enc');
mkdirSync(plainHome, { recursive: true, mode: 0o700 });
mkdirSync(encHome, { recursive: true, mode: 0o700 });
const passFile = join(dir, 'pass');
writeFileSync(passFile, 'bench passphrase\n', { mode: 0o600 });
const encEnv = { SEALED_KEY_PASSPHRASE_FILE: passFile };
await generateKey({ home: plainHome, env: {}, prompter: quiet, force: false, encrypt: false });
await generateKey({ home: encHome, env: encEnv, prompter: quiet, force: false, encrypt: true });
const hsm = initSoftHsm(join(dir, 'hsm'));
process.env.SOFTHSM2_CONF = hsm.conf;
const uri = hsm.uri('bench-key');
await generateKey({ home: plainHome, env: {}, keyUri: uri, prompter: quiet, force: false, encrypt: false });

const plain = await measure('file (plaintext)', { home: plainHome, env: {}, prompter: quiet });
const enc = await measure('encrypted-file (scrypt N=2^17 r=8 p=1)', { home: encHome, env: encEnv, prompter: quiet });
const token = await measure('pkcs11 (SoftHSM2)', { home: plainHome, env: {}, keyUri: uri, prompter: quiet });
console.log(`per seal vs plaintext: encrypted-file ${(enc.seal / plain.seal).toFixed(2)}x | pkcs11 ${(token.seal / plain.seal).toFixed(2)}x`);
console.log(`one-time cost per process: encrypted-file KDF +${(enc.open - plain.open).toFixed(0)} ms | pkcs11 open+login +${(token.open - plain.open).toFixed(0)} ms`);
