// Opening a TPM and collecting the evidence a seal carries: sha256-bank PCR values, a quote over them whose
// qualifying data binds it to the seal's chain, the attestation key that signed it, and what the TPM says
// about itself. Each collection creates its attestation key and flushes it before returning, also on
// failure, so nothing stays loaded in a TPM without a resource manager (swtpm has three object slots).

import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { SealedError } from '../errors.js';
import type { TpmBody } from '../chain/types.js';
import { SHA256_HEX } from '../core/digest.js';
import { DEFAULT_PCRS, EK_LOCATIONS, TPMA_NV, TPM_ALG, TPM_ECC, TPM_PT, TPM_RH, algName } from './constants.js';
import { TpmClient, TpmCommandError } from './client.js';
import { DEFAULT_DEVICE, describeConfig, type TpmConfig } from './config.js';
import { RC, isFormatOne } from './rc.js';
import { attestationKeyTemplate, describeKey, formatFirmwareVersion, isValidPcrIndex, parsePublicArea, type PcrSelection } from './structures.js';
import { DeviceTransport, SwtpmTransport, type Transport } from './transport.js';
import { verifyTpmEvidence } from './verify.js';

export interface TpmSession {
  /** e.g. "swtpm:127.0.0.1:2321" or "device:/dev/tpmrm0". */
  readonly transport: string;
  /** PCRs 0-7 plus `pcrs`, an attestation key, and a quote whose extraData is `qualifyingDataHex`. */
  collectEvidence(qualifyingDataHex: string, pcrs?: number[]): Promise<TpmBody>;
  /** Flushes what is still loaded and closes the transport; idempotent. */
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Deadline for one TPM command, in ms (default 10 s; creating the attestation key gets twelve times as long). */
  timeoutMs?: number;
  /** Deadline for connecting to swtpm, in ms (default 5 s). */
  connectTimeoutMs?: number;
  /** The device `auto` looks for (default /dev/tpmrm0). */
  autoDevice?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Key generation on a slow hardware TPM (RSA especially) can take a minute. */
const SLOW_FACTOR = 12;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** PCRs can change between reading them and quoting them (a boot-time event, IMA); try again this often. */
const QUOTE_ATTEMPTS = 3;

export interface TpmInfo {
  manufacturer: string;
  vendor: string;
  firmwareVersion: string;
  pcrBanks: PcrSelection[];
  eccP256: boolean;
  nvBufferMax: number;
}

export interface EndorsementInfo {
  kind: (typeof EK_LOCATIONS)[number]['kind'];
  handle: number;
  publicArea: Buffer | null;
  certificate: Buffer | null;
}

// "auto" says once per process that it found no TPM, however many builds ask.
const warned = new Set<string>();
function warnOnce(warn: (m: string) => void, message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  warn(message);
}

/**
 * Opens the configured TPM. `off`, and `auto` without a usable device, give null (auto says why once);
 * an explicitly configured TPM that cannot be reached or fails is a SealedError (TPM_UNAVAILABLE, TPM_ERROR).
 */
export async function openTpm(config: TpmConfig, warn: (message: string) => void, options: OpenOptions = {}): Promise<TpmSession | null> {
  if (config.kind === 'off') return null;
  if (config.kind === 'auto') {
    const path = options.autoDevice ?? DEFAULT_DEVICE;
    if (!existsSync(path)) {
      warnOnce(warn, `No TPM found (${path} does not exist): building without TPM evidence. Set SEALED_TPM=off to silence this, or SEALED_TPM=swtpm:HOST:PORT for a software TPM.`);
      return null;
    }
    try {
      return await openSession({ kind: 'device', path }, warn, options);
    } catch (e) {
      if (!(e instanceof SealedError) || (e.code !== 'TPM_UNAVAILABLE' && e.code !== 'TPM_ERROR')) throw e;
      warnOnce(warn, `${path} exists but cannot be used (${e.message}) Building without TPM evidence; set SEALED_TPM=device:${path} to make this an error, or SEALED_TPM=off.`);
      return null;
    }
  }
  return openSession(config, warn, options);
}

export async function openSession(config: Extract<TpmConfig, { kind: 'device' | 'swtpm' }>, warn: (message: string) => void, options: OpenOptions = {}): Promise<Session> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const transport: Transport =
    config.kind === 'device'
      ? await DeviceTransport.open(config.path)
      : await SwtpmTransport.open(config.host, config.port, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  const client = new TpmClient(transport, { commandMs: timeoutMs, slowCommandMs: timeoutMs * SLOW_FACTOR });
  try {
    // The kernel starts a real TPM at boot; a fresh swtpm may need both the power-on and the Startup.
    if (transport instanceof SwtpmTransport) await startSwtpm(client, transport, timeoutMs);
    const info = await probe(client);
    return new Session(client, info, warn);
  } catch (e) {
    await transport.close();
    throw e;
  }
}

async function startSwtpm(client: TpmClient, transport: SwtpmTransport, timeoutMs: number): Promise<void> {
  try {
    await client.startup();
  } catch (e) {
    // swtpm answers TPM_RC_FAILURE to everything until it gets CMD_INIT (unless started with not-need-init).
    if (!(e instanceof TpmCommandError && e.rc === RC.FAILURE)) throw e;
    await transport.initViaControlChannel(Math.min(timeoutMs, 5000));
    await client.startup();
  }
}

function ascii(words: (number | undefined)[]): string {
  const b = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => b.writeUInt32BE((w ?? 0) >>> 0, i * 4));
  return b
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

async function probe(client: TpmClient): Promise<TpmInfo> {
  const props = await client.getProperties(TPM_PT.FAMILY_INDICATOR, TPM_PT.NV_BUFFER_MAX);
  const family = props.get(TPM_PT.FAMILY_INDICATOR);
  if (family !== 0x322e3000) {
    throw new SealedError('TPM_ERROR', `${client.transport.name} does not report itself as a TPM 2.0 (family indicator ${family === undefined ? 'missing' : `0x${family.toString(16)}`}).`, {
      transport: client.transport.name,
    });
  }
  const pcrBanks = await client.getPcrBanks();
  let curves: number[] = [];
  try {
    curves = await client.getEccCurves();
  } catch (e) {
    if (!(e instanceof TpmCommandError)) throw e; // a TPM without ECC: the RSA key is used
  }
  return {
    manufacturer: ascii([props.get(TPM_PT.MANUFACTURER)]) || 'unknown',
    vendor: ascii([TPM_PT.VENDOR_STRING_1, TPM_PT.VENDOR_STRING_2, TPM_PT.VENDOR_STRING_3, TPM_PT.VENDOR_STRING_4].map((p) => props.get(p))),
    firmwareVersion: formatFirmwareVersion(props.get(TPM_PT.FIRMWARE_VERSION_1) ?? 0, props.get(TPM_PT.FIRMWARE_VERSION_2) ?? 0),
    pcrBanks,
    eccP256: curves.includes(TPM_ECC.NIST_P256),
    nvBufferMax: Math.min(Math.max(props.get(TPM_PT.NV_BUFFER_MAX) ?? 512, 64), 1024),
  };
}

/** PCRs 0-7 and the extra ones asked for, ascending, each once. */
export function selectPcrs(extra: readonly number[] = []): number[] {
  for (const p of extra) {
    if (!isValidPcrIndex(p)) throw new SealedError('USAGE', `PCR ${String(p)} does not exist; PCRs are numbered 0-23.`, { found: p });
  }
  return [...new Set([...DEFAULT_PCRS, ...extra])].sort((a, b) => a - b);
}

export class Session implements TpmSession {
  private closed = false;
  private closing: Promise<void> | null = null;
  private endorsement: Promise<EndorsementInfo | null> | null = null;
  /** Collections run one after another, so each one's cleanup only ever meets its own key. */
  private queue: Promise<unknown> = Promise.resolve();
  /** What the last collection's attestation key was, for `sealed tpm status`. */
  lastAttestationKey: string | null = null;

  constructor(
    private readonly client: TpmClient,
    readonly info: TpmInfo,
    private readonly warn: (message: string) => void,
  ) {}

  get transport(): string {
    return this.client.transport.name;
  }

  collectEvidence(qualifyingDataHex: string, pcrs: number[] = []): Promise<TpmBody> {
    const run = this.queue.then(
      () => this.collect(qualifyingDataHex, pcrs),
      () => this.collect(qualifyingDataHex, pcrs),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async collect(qualifyingDataHex: string, pcrs: number[]): Promise<TpmBody> {
    if (this.closed) throw new SealedError('INTERNAL', 'collectEvidence was called on a closed TPM session.');
    if (typeof qualifyingDataHex !== 'string' || !SHA256_HEX.test(qualifyingDataHex)) {
      throw new SealedError('INTERNAL', 'The qualifying data for a TPM quote must be 64 lowercase hex characters (a SHA-256).');
    }
    const selected = selectPcrs(pcrs);
    const bank = this.info.pcrBanks.find((b) => b.hash === TPM_ALG.SHA256);
    const missing = selected.filter((p) => !bank?.pcrs.includes(p));
    if (missing.length) {
      throw new SealedError('TPM_ERROR', bank ? `The TPM's sha256 PCR bank lacks PCRs ${missing.join(', ')}.` : "The TPM's sha256 PCR bank is not active; Sealed quotes sha256 PCRs.", {
        transport: this.transport,
        hint: 'Activate the sha256 bank in the firmware setup (or with tpm2_pcrallocate), or set SEALED_TPM=off.',
      });
    }
    const ek = await this.endorsementKey();
    try {
      const ak = await this.createAttestationKey();
      this.lastAttestationKey = describeKey(parsePublicArea(ak.publicArea));
      return await this.quoteWith(ak, qualifyingDataHex, selected, ek);
    } finally {
      await this.flushAll();
    }
  }

  private async quoteWith(ak: { handle: number; publicArea: Buffer; name: Buffer }, qualifyingDataHex: string, selected: number[], ek: EndorsementInfo | null): Promise<TpmBody> {
    for (let attempt = 1; ; attempt++) {
      const values = await this.client.pcrRead(TPM_ALG.SHA256, selected);
      const { attest, signature } = await this.client.quote(ak.handle, Buffer.from(qualifyingDataHex, 'hex'), [{ hash: TPM_ALG.SHA256, pcrs: selected }]);
      const body: TpmBody = {
        transport: this.transport,
        manufacturer: this.info.manufacturer,
        vendor: this.info.vendor,
        firmware_version: this.info.firmwareVersion,
        pcr_bank: 'sha256',
        pcrs: selected.map((index) => {
          const v = values.get(index);
          if (!v || v.length !== 32) throw new SealedError('TPM_ERROR', `The TPM returned no SHA-256 value for PCR ${index}.`, { transport: this.transport });
          return { index, sha256: v.toString('hex') };
        }),
        attestation_key_public: ak.publicArea.toString('hex'),
        attestation_key_name: ak.name.toString('hex'),
        quote: attest.toString('hex'),
        quote_signature: signature.toString('hex'),
        qualifying_data: qualifyingDataHex,
        endorsement_key_public: ek?.publicArea?.toString('hex') ?? null,
        endorsement_key_certificate: ek?.certificate?.toString('hex') ?? null,
      };
      // Hand out only evidence that passes the same check verify-seal runs.
      try {
        verifyTpmEvidence(body, qualifyingDataHex);
        return body;
      } catch (e) {
        if (e instanceof SealedError && e.code === 'TPM_PCR_DIGEST_MISMATCH' && attempt < QUOTE_ATTEMPTS) continue;
        throw new SealedError('TPM_ERROR', `The TPM produced evidence that does not verify: ${(e as Error).message}`, {
          transport: this.transport,
          cause_code: e instanceof SealedError ? e.code : undefined,
        });
      }
    }
  }

  private async createAttestationKey(): Promise<{ handle: number; publicArea: Buffer; name: Buffer }> {
    const create = (kind: 'ecc' | 'rsa') => this.client.createPrimary(TPM_RH.ENDORSEMENT, attestationKeyTemplate(kind));
    const authProblem = (e: TpmCommandError) => e.base === RC.AUTH_FAIL || e.base === RC.BAD_AUTH || e.base === RC.HIERARCHY;
    try {
      if (this.info.eccP256) {
        try {
          return await create('ecc');
        } catch (e) {
          // A TPM that lists P-256 but rejects this template (scheme, curve, key parameters): use RSA-2048.
          if (!(e instanceof TpmCommandError) || !isFormatOne(e.rc) || authProblem(e)) throw e;
        }
      }
      return await create('rsa');
    } catch (e) {
      if (e instanceof TpmCommandError) {
        const hint =
          e.base === RC.AUTH_FAIL || e.base === RC.BAD_AUTH
            ? 'The endorsement hierarchy has a password; Sealed creates its attestation key with the empty one.'
            : e.base === RC.HIERARCHY
              ? 'The endorsement hierarchy is disabled (enable it in the firmware setup).'
              : e.rc === RC.LOCKOUT
                ? 'The TPM is in dictionary-attack lockout; wait, or reset it with tpm2_dictionarylockout.'
                : e.rc === RC.OBJECT_MEMORY
                  ? 'The TPM has no free object slot. Without a resource manager (swtpm), objects other programs left loaded stay there until the TPM restarts (tpm2_flushcontext -t clears them).'
                  : undefined;
        if (hint) e.details.hint = hint;
      }
      throw e;
    }
  }

  /** The endorsement key's public area and certificate where the platform keeps them; read once per session. */
  endorsementKey(): Promise<EndorsementInfo | null> {
    this.endorsement ??= this.readEndorsement();
    return this.endorsement;
  }

  private async readEndorsement(): Promise<EndorsementInfo | null> {
    const absent = (e: unknown) => {
      if (e instanceof TpmCommandError) return null; // not provisioned, or not readable without a password
      throw e;
    };
    for (const loc of EK_LOCATIONS) {
      const publicArea = await this.client.readPublic(loc.handle).then((r) => r.publicArea, absent);
      const certificate = await this.readCertificate(loc.certIndex).catch(absent);
      if (publicArea || certificate) return { kind: loc.kind, handle: loc.handle, publicArea, certificate };
    }
    return null;
  }

  private async readCertificate(index: number): Promise<Buffer | null> {
    const { attributes, dataSize } = await this.client.nvReadPublic(index);
    if (!(attributes & TPMA_NV.WRITTEN) || dataSize === 0) return null;
    const auth = attributes & TPMA_NV.AUTHREAD ? index : attributes & TPMA_NV.OWNERREAD ? TPM_RH.OWNER : null;
    if (auth === null) return null;
    const parts: Buffer[] = [];
    for (let offset = 0; offset < dataSize; offset += this.info.nvBufferMax) {
      parts.push(await this.client.nvRead(auth, index, Math.min(this.info.nvBufferMax, dataSize - offset), offset));
    }
    return derPrefix(Buffer.concat(parts));
  }

  private async flushAll(): Promise<void> {
    for (const handle of [...this.client.liveHandles]) {
      try {
        await this.client.flush(handle);
      } catch (e) {
        this.warn(`Could not flush TPM object 0x${handle.toString(16)} (${(e as Error).message}); it stays loaded until the TPM restarts.`);
      }
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      await this.queue;
      await this.client.drain();
      try {
        if (this.client.liveHandles.size) await this.flushAll();
      } finally {
        await this.client.transport.close();
      }
    })();
    return this.closing;
  }
}

/** NV certificate indices are often padded past the DER; keep exactly the certificate's bytes. */
function derPrefix(b: Buffer): Buffer {
  if (b.length < 4 || b[0] !== 0x30) return b;
  const first = b[1]!;
  let len: number;
  let header: number;
  if (first < 0x80) {
    len = first;
    header = 2;
  } else {
    const n = first & 0x7f;
    if (n === 0 || n > 3 || b.length < 2 + n) return b;
    len = b.readUIntBE(2, n);
    header = 2 + n;
  }
  return header + len <= b.length ? b.subarray(0, header + len) : b;
}

// ---------------------------------------------------------------------------------------------------------
// `sealed tpm status`

const PCR_MEANINGS: Record<number, string> = {
  0: 'platform firmware code (UEFI/BIOS)',
  1: 'platform firmware configuration',
  2: 'option ROM and UEFI driver code',
  3: 'option ROM and UEFI driver configuration',
  4: 'boot manager code (boot loader)',
  5: 'boot manager configuration and partition table',
  6: 'platform-specific events (resume, wake)',
  7: 'Secure Boot policy and keys',
};

export function pcrMeaning(index: number): string {
  return PCR_MEANINGS[index] ?? (index <= 15 ? 'defined by the boot loader and operating system' : 'debug and application use');
}

export interface TpmStatus {
  setting: string;
  available: boolean;
  /** Why there is no TPM (auto without a device, off). */
  reason: string | null;
  transport: string | null;
  manufacturer: string | null;
  vendor: string | null;
  firmware_version: string | null;
  pcr_banks: { bank: string; pcrs: number[] }[];
  attestation_key: string | null;
  endorsement_key: { type: string; handle: string; public_key: boolean; certificate: boolean } | null;
  quote: { ok: true; pcr_bank: 'sha256'; pcrs: { index: number; meaning: string }[]; milliseconds: number } | null;
  covers: string[];
}

const COVERS = [
  'the sha256 PCR values listed, as the TPM held them when the quote was made',
  'the chain of the records before the TPM record (package, source, environment), through the qualifying data',
  'the TPM firmware version and clock, which the TPM puts in every quote',
];

/** Opens the configured TPM, takes a test quote, checks it, and reports. */
export async function tpmStatus(config: TpmConfig, options: OpenOptions & { pcrs?: number[] } = {}): Promise<TpmStatus> {
  const base: TpmStatus = {
    setting: describeConfig(config),
    available: false,
    reason: null,
    transport: null,
    manufacturer: null,
    vendor: null,
    firmware_version: null,
    pcr_banks: [],
    attestation_key: null,
    endorsement_key: null,
    quote: null,
    covers: [],
  };
  if (config.kind === 'off') return { ...base, reason: 'SEALED_TPM=off: builds carry no TPM evidence' };
  let reason: string | null = null;
  let session: Session | null;
  if (config.kind === 'auto') {
    const path = options.autoDevice ?? DEFAULT_DEVICE;
    session = existsSync(path)
      ? await openSession({ kind: 'device', path }, () => undefined, options).catch((e: unknown) => {
          if (!(e instanceof SealedError) || (e.code !== 'TPM_UNAVAILABLE' && e.code !== 'TPM_ERROR')) throw e;
          reason = `${path} exists but cannot be used: ${e.message}`;
          return null;
        })
      : null;
    if (!session) return { ...base, reason: reason ?? `no TPM: ${path} does not exist, so builds carry no TPM evidence (set SEALED_TPM=swtpm:HOST:PORT for a software TPM)` };
  } else {
    session = await openSession(config, () => undefined, options);
  }
  try {
    const started = performance.now();
    const body = await session.collectEvidence(randomBytes(32).toString('hex'), options.pcrs ?? []);
    const milliseconds = Math.round(performance.now() - started);
    const ek = await session.endorsementKey();
    return {
      ...base,
      available: true,
      transport: session.transport,
      manufacturer: session.info.manufacturer,
      vendor: session.info.vendor,
      firmware_version: session.info.firmwareVersion,
      pcr_banks: session.info.pcrBanks.filter((b) => b.pcrs.length > 0).map((b) => ({ bank: algName(b.hash), pcrs: b.pcrs })),
      attestation_key: `${session.lastAttestationKey}, a restricted signing key created under the endorsement hierarchy for each build`,
      endorsement_key: ek
        ? { type: ek.kind, handle: `0x${ek.handle.toString(16)}`, public_key: ek.publicArea !== null, certificate: ek.certificate !== null }
        : null,
      quote: { ok: true, pcr_bank: 'sha256', pcrs: body.pcrs.map((p) => ({ index: p.index, meaning: pcrMeaning(p.index) })), milliseconds },
      covers: COVERS,
    };
  } finally {
    await session.close();
  }
}
