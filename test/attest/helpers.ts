// Shared by the attestation tests: the independent verifier (securesystemslib + in-toto-attestation,
// test/attest/verify_envelope.py) and ways to re-sign or damage an envelope.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { testVenvPython } from '../helpers/tools.js';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope, type Envelope } from '../../src/attest/index.js';
import { signMessage, type SigningKey } from '../../src/seal/index.js';

export interface PyVerdict {
  ok: boolean;
  status: number | null;
  lines: Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  stderr: string;
}

/** Runs the Python verifier on a file with a public key (raw hex). */
export function pythonVerify(file: string, publicKeyHex: string, extra: string[] = []): PyVerdict {
  const res = spawnSync(testVenvPython(), [join(repoRoot(), 'test', 'attest', 'verify_envelope.py'), file, publicKeyHex, ...extra], { encoding: 'utf8' });
  const lines = res.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { ok: res.status === 0 && lines.length > 0 && lines.every((l) => l.ok === true), status: res.status, lines, stderr: res.stderr };
}

export function payloadOf(envelope: Envelope): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  return JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
}

/** An envelope over any payload, properly signed by `key` (what an attacker with that key can make). */
export function resign(payload: unknown, key: SigningKey, payloadType = IN_TOTO_PAYLOAD_TYPE): Envelope {
  const body = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
  return signEnvelope(payloadType, body, { publicKey: key.publicKey, sign: (m) => signMessage(key, m) });
}

export function line(envelope: unknown): string {
  return JSON.stringify(envelope) + '\n';
}

/** The `in-toto` package verifies a link against a layout whose one step, build, the key performs. */
export function inTotoVerifyLink(file: string, publicKeyHex: string, sdist: string, wheel: string, workDir: string): { ok: boolean; out: string } {
  const res = spawnSync(testVenvPython(), [join(repoRoot(), 'test', 'attest', 'verify_link.py'), file, publicKeyHex, sdist, wheel, workDir], { encoding: 'utf8' });
  return { ok: res.status === 0 && /"ok": true/.test(res.stdout), out: res.stdout + res.stderr };
}

/** sigstore-js verifies a Sigstore bundle with a self-managed public key, offline. */
export function sigstoreJsVerify(file: string, publicKeyHex: string): { ok: boolean; out: string; hint?: string } {
  const res = spawnSync(process.execPath, [join(repoRoot(), 'test', 'attest', 'verify-bundle.mjs'), file, publicKeyHex], { encoding: 'utf8', cwd: repoRoot() });
  const last = res.stdout.trim().split('\n').pop() ?? '';
  let parsed: { ok?: boolean; hint?: string } = {};
  try {
    parsed = JSON.parse(last) as { ok?: boolean; hint?: string };
  } catch {
    /* reported through out */
  }
  return { ok: res.status === 0 && parsed.ok === true, out: res.stdout + res.stderr, ...(parsed.hint ? { hint: parsed.hint } : {}) };
}
