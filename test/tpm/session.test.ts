import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SealedError, exitCodeFor, type ErrorCode } from '../../src/errors.js';
import { openTpm, tpmConfigFromEnv, verifyTpmEvidence } from '../../src/tpm/index.js';
import { TPM_CC } from '../../src/tpm/constants.js';
import { runCli } from '../helpers/cli.js';
import { startSwtpm, type Swtpm } from '../helpers/swtpm.js';
import { errorResponse, startProxy } from './proxy.js';
import { startPtyDevice } from './pty-device.js';

const QD = 'c0'.repeat(32);

async function rejectsWith(p: Promise<unknown>, codes: ErrorCode[]): Promise<SealedError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SealedError, `expected a SealedError, got ${String(caught)}`);
  assert.ok(codes.includes(caught.code), `expected ${codes.join('/')}, got ${caught.code}: ${caught.message}`);
  return caught;
}

/** Transient objects loaded in swtpm, asked independently with tpm2-tools. */
function transientHandles(swtpm: Swtpm): string[] {
  const out = execFileSync('tpm2_getcap', ['-T', swtpm.tcti, 'handles-transient'], { encoding: 'utf8', timeout: 10_000 });
  return out.split('\n').filter((l) => l.trim().startsWith('-'));
}

async function timed<T>(f: () => Promise<T>): Promise<[T | undefined, number, unknown]> {
  const t = performance.now();
  try {
    return [await f(), performance.now() - t, undefined];
  } catch (e) {
    return [undefined, performance.now() - t, e];
  }
}

describe('SEALED_TPM', () => {
  it('accepts auto (the default), off, device:PATH and swtpm:HOST:PORT', () => {
    assert.deepEqual(tpmConfigFromEnv({}), { kind: 'auto' });
    assert.deepEqual(tpmConfigFromEnv({ SEALED_TPM: 'auto' }), { kind: 'auto' });
    assert.deepEqual(tpmConfigFromEnv({ SEALED_TPM: 'off' }), { kind: 'off' });
    assert.deepEqual(tpmConfigFromEnv({ SEALED_TPM: 'device:/dev/tpmrm0' }), { kind: 'device', path: '/dev/tpmrm0' });
    assert.deepEqual(tpmConfigFromEnv({ SEALED_TPM: 'swtpm:127.0.0.1:2321' }), { kind: 'swtpm', host: '127.0.0.1', port: 2321 });
    assert.deepEqual(tpmConfigFromEnv({ SEALED_TPM: 'swtpm:[::1]:2321' }), { kind: 'swtpm', host: '::1', port: 2321 });
    assert.deepEqual(tpmConfigFromEnv({ SEALED_TPM: 'swtpm:tpm.local:2321' }), { kind: 'swtpm', host: 'tpm.local', port: 2321 });
  });

  it('refuses anything else as a usage error (exit 2)', () => {
    for (const bad of ['on', 'device', 'device:', 'swtpm:2321', 'swtpm:host:', 'swtpm:host:0', 'swtpm:host:70000', 'swtpm:host:port', 'tpm:/dev/tpm0']) {
      assert.throws(
        () => tpmConfigFromEnv({ SEALED_TPM: bad }),
        (e: unknown) => e instanceof SealedError && e.code === 'USAGE' && e.exitCode === 2,
        bad,
      );
    }
  });
});

describe('opening a TPM', () => {
  it('off gives no session and says nothing', async () => {
    const warnings: string[] = [];
    assert.equal(await openTpm({ kind: 'off' }, (m) => warnings.push(m)), null);
    assert.deepEqual(warnings, []);
  });

  it('auto without a device gives no session and says so once', async () => {
    const warnings: string[] = [];
    const autoDevice = join(tmpdir(), `sealed-no-tpm-${process.pid}-${Date.now()}`);
    assert.equal(await openTpm({ kind: 'auto' }, (m) => warnings.push(m), { autoDevice }), null);
    assert.equal(await openTpm({ kind: 'auto' }, (m) => warnings.push(m), { autoDevice }), null);
    assert.equal(warnings.length, 1);
  });

  it('auto with a path that is not a TPM device gives no session and a warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealed-notpm-'));
    const file = join(dir, 'tpmrm0');
    writeFileSync(file, 'not a device');
    const warnings: string[] = [];
    assert.equal(await openTpm({ kind: 'auto' }, (m) => warnings.push(m), { autoDevice: file }), null);
    assert.equal(warnings.length, 1);
    rmSync(dir, { recursive: true });
  });

  it('an explicit device that is missing or not a character device is TPM_UNAVAILABLE (exit 3)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealed-notpm-'));
    const e = await rejectsWith(openTpm({ kind: 'device', path: join(dir, 'missing') }, () => undefined), ['TPM_UNAVAILABLE']);
    assert.equal(e.exitCode, 3);
    writeFileSync(join(dir, 'file'), 'x');
    await rejectsWith(openTpm({ kind: 'device', path: join(dir, 'file') }, () => undefined), ['TPM_UNAVAILABLE']);
    rmSync(dir, { recursive: true });
  });

  it('an explicit swtpm that is not listening is TPM_UNAVAILABLE at once', async () => {
    const proxy = await startProxy(1, () => ({ do: 'forward' }));
    const port = proxy.port;
    await proxy.close(); // a port that was just free
    const [, ms, err] = await timed(() => openTpm({ kind: 'swtpm', host: '127.0.0.1', port }, () => undefined));
    assert.ok(err instanceof SealedError && err.code === 'TPM_UNAVAILABLE', String(err));
    assert.ok(ms < 2000, `took ${ms} ms`);
  });
});

describe('with swtpm', () => {
  let swtpm: Swtpm;
  before(async () => {
    swtpm = await startSwtpm();
  });
  after(async () => {
    await swtpm?.stop();
  });

  it('a hundred collections in a row leave no object loaded', async () => {
    for (let i = 0; i < 100; i++) {
      const session = (await openTpm(swtpm.config, () => undefined))!;
      try {
        const body = await session.collectEvidence(QD);
        if (i === 0 || i === 99) verifyTpmEvidence(body, QD);
      } finally {
        await session.close();
      }
    }
    assert.deepEqual(transientHandles(swtpm), []);
  });

  it('many collections in one session, some at the same time, all verify and leave nothing loaded', async () => {
    const session = (await openTpm(swtpm.config, () => undefined))!;
    try {
      const bodies = await Promise.all(Array.from({ length: 6 }, (_, i) => session.collectEvidence(String(i).repeat(64))));
      bodies.forEach((b, i) => verifyTpmEvidence(b, String(i).repeat(64)));
    } finally {
      await session.close();
      await session.close(); // idempotent
    }
    assert.deepEqual(transientHandles(swtpm), []);
  });

  it('flushes the attestation key when the quote fails, and names the TPM error', async () => {
    const proxy = await startProxy(swtpm.port, (cc) => (cc === TPM_CC.Quote ? { do: 'respond', bytes: errorResponse(0x1c4) } : { do: 'forward' }));
    const session = (await openTpm({ kind: 'swtpm', host: '127.0.0.1', port: proxy.port }, () => undefined))!;
    try {
      const e = await rejectsWith(session.collectEvidence(QD), ['TPM_ERROR']);
      assert.equal(e.details.tpm_rc_name, 'TPM_RC_VALUE');
      assert.ok(proxy.seen.includes(TPM_CC.FlushContext), 'FlushContext was sent after the failure');
    } finally {
      await session.close();
      await proxy.close();
    }
    assert.deepEqual(transientHandles(swtpm), []);
  });

  it('a malformed response is TPM_ERROR, and the key is still flushed', async () => {
    const garbage = Buffer.from('80020000000c000000000000', 'hex'); // sessions tag, no room for parameters
    const proxy = await startProxy(swtpm.port, (cc) => (cc === TPM_CC.Quote ? { do: 'respond', bytes: garbage } : { do: 'forward' }));
    const session = (await openTpm({ kind: 'swtpm', host: '127.0.0.1', port: proxy.port }, () => undefined))!;
    try {
      await rejectsWith(session.collectEvidence(QD), ['TPM_ERROR']);
    } finally {
      await session.close();
      await proxy.close();
    }
    assert.deepEqual(transientHandles(swtpm), []);
  });

  it('retries a TPM that asks for it (TPM_RC_RETRY) and then succeeds', async () => {
    let retries = 2;
    const proxy = await startProxy(swtpm.port, (cc) => (cc === TPM_CC.Quote && retries-- > 0 ? { do: 'respond', bytes: errorResponse(0x922) } : { do: 'forward' }));
    const session = (await openTpm({ kind: 'swtpm', host: '127.0.0.1', port: proxy.port }, () => undefined))!;
    try {
      verifyTpmEvidence(await session.collectEvidence(QD), QD);
    } finally {
      await session.close();
      await proxy.close();
    }
  });

  it('uses an RSA-2048 attestation key when the TPM offers no P-256, and that evidence verifies', async () => {
    // Answer GetCapability(TPM_CAP_ECC_CURVES) with an empty list.
    const noCurves = Buffer.from('80010000001300000000' + '00' + '00000008' + '00000000', 'hex');
    const proxy = await startProxy(swtpm.port, (cc, command) =>
      cc === TPM_CC.GetCapability && command.readUInt32BE(10) === 8 ? { do: 'respond', bytes: noCurves } : { do: 'forward' },
    );
    const session = (await openTpm({ kind: 'swtpm', host: '127.0.0.1', port: proxy.port }, () => undefined))!;
    try {
      const body = await session.collectEvidence(QD);
      assert.equal(body.attestation_key_public.slice(0, 4), '0001'); // TPM_ALG_RSA
      assert.equal(body.quote_signature.slice(0, 4), '0014'); // TPM_ALG_RSASSA
      verifyTpmEvidence(body, QD);
    } finally {
      await session.close();
      await proxy.close();
    }
    assert.deepEqual(transientHandles(swtpm), []);
  });

  it('is reached through a TPM character device as well (device transport over a raw pty)', async () => {
    const dev = await startPtyDevice(swtpm.port);
    try {
      const session = (await openTpm({ kind: 'device', path: dev.path }, () => undefined))!;
      assert.equal(session.transport, `device:${dev.path}`);
      try {
        const body = await session.collectEvidence(QD, [16]);
        verifyTpmEvidence(body, QD);
        assert.equal(body.transport, `device:${dev.path}`);
      } finally {
        await session.close();
      }
    } finally {
      await dev.stop();
    }
    assert.deepEqual(transientHandles(swtpm), []);
  });
});

describe('when swtpm dies or hangs in the middle', () => {
  it('killed when the quote is sent: TPM_UNAVAILABLE promptly, and close() returns', async () => {
    const swtpm = await startSwtpm();
    const proxy = await startProxy(swtpm.port, (cc) => (cc === TPM_CC.Quote ? { do: 'before', effect: () => swtpm.signal('SIGKILL') } : { do: 'forward' }));
    try {
      const session = (await openTpm({ kind: 'swtpm', host: '127.0.0.1', port: proxy.port }, () => undefined))!;
      const [, ms, err] = await timed(() => session.collectEvidence(QD));
      assert.ok(err instanceof SealedError && (err.code === 'TPM_UNAVAILABLE' || err.code === 'TPM_ERROR'), String(err));
      assert.equal(exitCodeFor(err.code), 3);
      assert.ok(ms < 3000, `took ${ms} ms`);
      const [, closeMs] = await timed(() => session.close());
      assert.ok(closeMs < 3000, `close took ${closeMs} ms`);
    } finally {
      await proxy.close();
      await swtpm.stop();
    }
  });

  it('killed between opening and collecting: TPM_UNAVAILABLE', async () => {
    const swtpm = await startSwtpm();
    try {
      const session = (await openTpm(swtpm.config, () => undefined))!;
      swtpm.signal('SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
      await rejectsWith(session.collectEvidence(QD), ['TPM_UNAVAILABLE', 'TPM_ERROR']);
      await session.close();
      await rejectsWith(openTpm(swtpm.config, () => undefined), ['TPM_UNAVAILABLE']);
    } finally {
      await swtpm.stop();
    }
  });

  it('hung (stopped) after opening: TPM_UNAVAILABLE after the command deadline, not a hang', async () => {
    const swtpm = await startSwtpm();
    try {
      const session = (await openTpm(swtpm.config, () => undefined, { timeoutMs: 700 }))!;
      swtpm.signal('SIGSTOP');
      const [, ms, err] = await timed(() => session.collectEvidence(QD));
      assert.ok(err instanceof SealedError && err.code === 'TPM_UNAVAILABLE', String(err));
      assert.ok(ms >= 600 && ms < 3000, `took ${ms} ms`);
      await session.close();
      // Opening a hung swtpm: the kernel accepts the connection, nothing answers.
      const [, openMs, openErr] = await timed(() => openTpm(swtpm.config, () => undefined, { timeoutMs: 700 }));
      assert.ok(openErr instanceof SealedError && openErr.code === 'TPM_UNAVAILABLE', String(openErr));
      assert.ok(openMs < 3000, `took ${openMs} ms`);
    } finally {
      await swtpm.stop();
    }
  });
});

describe('when the quote gets no answer', () => {
  it('gives TPM_UNAVAILABLE at the deadline, and the key is still flushed over a new connection', async () => {
    const swtpm = await startSwtpm();
    const proxy = await startProxy(swtpm.port, (cc) => (cc === TPM_CC.Quote ? { do: 'silence' } : { do: 'forward' }));
    try {
      const session = (await openTpm({ kind: 'swtpm', host: '127.0.0.1', port: proxy.port }, () => undefined, { timeoutMs: 700 }))!;
      const [, ms, err] = await timed(() => session.collectEvidence(QD));
      assert.ok(err instanceof SealedError && err.code === 'TPM_UNAVAILABLE', String(err));
      assert.ok(ms >= 600 && ms < 3000, `took ${ms} ms`);
      await session.close();
      assert.deepEqual(transientHandles(swtpm), []);
    } finally {
      await proxy.close();
      await swtpm.stop();
    }
  });
});

describe('swtpm started without not-need-init', () => {
  it('is initialized through its control channel (CMD_INIT) and then works', async () => {
    const swtpm = await startSwtpm({ ready: false });
    try {
      const session = (await openTpm(swtpm.config, () => undefined))!;
      try {
        verifyTpmEvidence(await session.collectEvidence(QD), QD);
      } finally {
        await session.close();
      }
    } finally {
      await swtpm.stop();
    }
  });
});

describe('sealed tpm status', () => {
  let swtpm: Swtpm;
  let home: string;
  before(async () => {
    swtpm = await startSwtpm();
    home = mkdtempSync(join(tmpdir(), 'sealed-tpm-status-'));
  });
  after(async () => {
    await swtpm?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('reports the TPM, its banks and a checked quote (--json)', async () => {
    const r = await runCli(['tpm', 'status', '--json'], { env: { SEALED_TPM: swtpm.setting, SEALED_HOME: home } });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const s = r.json.tpm;
    assert.equal(s.available, true);
    assert.equal(s.transport, swtpm.setting);
    assert.equal(s.manufacturer, 'IBM');
    assert.match(s.firmware_version, /^\d+\.\d+\.\d+\.\d+$/);
    assert.ok(s.pcr_banks.some((b: { bank: string; pcrs: number[] }) => b.bank === 'sha256' && b.pcrs.length === 24));
    assert.equal(s.quote.ok, true);
    assert.deepEqual(
      s.quote.pcrs.map((p: { index: number }) => p.index),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    assert.match(s.attestation_key, /P-256/);
    assert.ok(s.covers.length > 0);
  });

  it('prints a human summary without --json', async () => {
    const r = await runCli(['tpm', 'status'], { env: { SEALED_TPM: swtpm.setting, SEALED_HOME: home } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /quote:\s+ok/);
  });

  it('exits 3 with TPM_UNAVAILABLE when the configured swtpm is not there', async () => {
    const proxy = await startProxy(1, () => ({ do: 'forward' }));
    const port = proxy.port;
    await proxy.close();
    const r = await runCli(['tpm', 'status', '--json'], { env: { SEALED_TPM: `swtpm:127.0.0.1:${port}`, SEALED_HOME: home } });
    assert.equal(r.status, 3);
    assert.equal(r.json.error.code, 'TPM_UNAVAILABLE');
  });

  it('exits 2 for a malformed SEALED_TPM, and 0 with available=false for off', async () => {
    const bad = await runCli(['tpm', 'status', '--json'], { env: { SEALED_TPM: 'swtpm:nowhere', SEALED_HOME: home } });
    assert.equal(bad.status, 2);
    assert.equal(bad.json.error.code, 'USAGE');
    const off = await runCli(['tpm', 'status', '--json'], { env: { SEALED_TPM: 'off', SEALED_HOME: home } });
    assert.equal(off.status, 0);
    assert.equal(off.json.tpm.available, false);
  });
});
