// A small TPM 2.0 client: the commands Sealed needs (Part 3), framed by hand. One command at a time per
// client (a TPM channel is strictly request/response); every transient handle it creates is tracked so
// close() can flush whatever a failure left behind.

import { SealedError } from '../errors.js';
import { COMMAND_NAMES, TPM_ALG, TPM_CAP, TPM_CC, TPM_RS_PW, TPM_ST, TPM_SU_CLEAR } from './constants.js';
import { Reader, TpmFormatError, Writer } from './marshal.js';
import { RC, decodeRc, describeRc, isRetryable } from './rc.js';
import { readPcrSelections, readPublicBytes, readSignatureBytes, writePcrSelections, type PcrSelection } from './structures.js';
import type { Transport } from './transport.js';

/** A TPM answered a command with an error code. */
export class TpmCommandError extends SealedError {
  constructor(
    readonly command: string,
    readonly rc: number,
    transport: string,
  ) {
    const d = decodeRc(rc);
    super('TPM_ERROR', `${command} failed: ${describeRc(rc)}.`, { transport, tpm_command: command, tpm_rc: `0x${rc.toString(16)}`, tpm_rc_name: d.name });
  }

  /** The code without its handle/parameter/session number. */
  get base(): number {
    return decodeRc(this.rc).base;
  }
}

export interface ClientOptions {
  /** Deadline for one command; key generation gets `slowCommandMs`. */
  commandMs: number;
  slowCommandMs: number;
}

interface CommandSpec {
  handles?: number[];
  /** How many of `handles` (from the start) need authorization; each gets an empty-password session. */
  authorized?: number;
  params?: Buffer;
  responseHandles?: number;
  timeoutMs?: number;
}

interface CommandResult {
  handles: number[];
  params: Reader;
}

const MAX_RETRIES = 5;

export class TpmClient {
  private queue: Promise<unknown> = Promise.resolve();
  /** Transient objects this client created and has not flushed yet. */
  readonly liveHandles = new Set<number>();

  constructor(
    readonly transport: Transport,
    readonly options: ClientOptions,
  ) {}

  /** Runs `f` when every earlier call has finished (commands never interleave on the channel). */
  private serialized<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f, f);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Waits for every queued command to finish. */
  async drain(): Promise<void> {
    await this.queue;
  }

  private async send(cc: number, spec: CommandSpec): Promise<CommandResult> {
    const name = COMMAND_NAMES.get(cc) ?? `command 0x${cc.toString(16)}`;
    const handles = spec.handles ?? [];
    const authorized = spec.authorized ?? 0;
    const w = new Writer();
    w.u16(authorized ? TPM_ST.SESSIONS : TPM_ST.NO_SESSIONS).u32(0).u32(cc);
    for (const h of handles) w.u32(h);
    if (authorized) {
      // TPMS_AUTH_COMMAND for the password session, empty password: handle, nonce, attributes, hmac.
      const auth = new Writer();
      for (let i = 0; i < authorized; i++) auth.u32(TPM_RS_PW).sized(Buffer.alloc(0)).u8(0).sized(Buffer.alloc(0));
      w.u32(auth.size).bytes(auth.finish());
    }
    if (spec.params) w.bytes(spec.params);
    const command = w.finish();
    command.writeUInt32BE(command.length, 2);

    for (let attempt = 0; ; attempt++) {
      const response = await this.transport.transmit(command, spec.timeoutMs ?? this.options.commandMs);
      const rc = response.readUInt32BE(6);
      if (rc !== RC.SUCCESS) {
        if (isRetryable(rc) && attempt < MAX_RETRIES) {
          await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
          continue;
        }
        throw new TpmCommandError(name, rc, this.transport.name);
      }
      try {
        return parseResponse(response, spec.responseHandles ?? 0);
      } catch (e) {
        throw malformed(name, this.transport.name, e);
      }
    }
  }

  private command(cc: number, spec: CommandSpec): Promise<CommandResult> {
    return this.serialized(() => this.send(cc, spec));
  }

  /** Parses a response's parameters; TpmFormatError becomes a TPM_ERROR naming the command. */
  private parse<T>(cc: number, f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw malformed(COMMAND_NAMES.get(cc) ?? 'a command', this.transport.name, e);
    }
  }

  /** TPM2_Startup(CLEAR); a TPM that is already started answers TPM_RC_INITIALIZE, which is fine. */
  async startup(): Promise<'started' | 'already-started'> {
    try {
      await this.command(TPM_CC.Startup, { params: new Writer().u16(TPM_SU_CLEAR).finish() });
      return 'started';
    } catch (e) {
      if (e instanceof TpmCommandError && e.rc === RC.INITIALIZE) return 'already-started';
      throw e;
    }
  }

  /** TPM_CAP_TPM_PROPERTIES from `first`, following moreData until `last` or the end. */
  async getProperties(first: number, last: number): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    let next = first;
    for (let round = 0; round < 8 && next <= last; round++) {
      const { params } = await this.command(TPM_CC.GetCapability, {
        params: new Writer().u32(TPM_CAP.TPM_PROPERTIES).u32(next).u32(last - next + 1).finish(),
      });
      const more = this.parse(TPM_CC.GetCapability, () => {
        const moreData = params.u8('moreData');
        const cap = params.u32('capability');
        if (cap !== TPM_CAP.TPM_PROPERTIES) throw new TpmFormatError(`asked for properties, got capability ${cap}`);
        const count = params.u32('count');
        if (count > 256) throw new TpmFormatError(`${count} properties`);
        for (let i = 0; i < count; i++) {
          const p = params.u32('property');
          const v = params.u32('value');
          out.set(p, v);
          next = Math.max(next, p + 1);
        }
        return moreData === 1 && count > 0;
      });
      if (!more) break;
    }
    return out;
  }

  /** The allocated PCR banks (TPM_CAP_PCRS). */
  async getPcrBanks(): Promise<PcrSelection[]> {
    const { params } = await this.command(TPM_CC.GetCapability, { params: new Writer().u32(TPM_CAP.PCRS).u32(0).u32(1).finish() });
    return this.parse(TPM_CC.GetCapability, () => {
      params.u8('moreData');
      const cap = params.u32('capability');
      if (cap !== TPM_CAP.PCRS) throw new TpmFormatError(`asked for PCR banks, got capability ${cap}`);
      return readPcrSelections(params, 'assignedPCR');
    });
  }

  /** The ECC curves the TPM implements (TPM_CAP_ECC_CURVES). */
  async getEccCurves(): Promise<number[]> {
    const { params } = await this.command(TPM_CC.GetCapability, { params: new Writer().u32(TPM_CAP.ECC_CURVES).u32(0).u32(64).finish() });
    return this.parse(TPM_CC.GetCapability, () => {
      params.u8('moreData');
      const cap = params.u32('capability');
      if (cap !== TPM_CAP.ECC_CURVES) throw new TpmFormatError(`asked for ECC curves, got capability ${cap}`);
      const count = params.u32('count');
      if (count > 64) throw new TpmFormatError(`${count} curves`);
      const curves: number[] = [];
      for (let i = 0; i < count; i++) curves.push(params.u16('curve'));
      return curves;
    });
  }

  /**
   * TPM2_PCR_Read of the given PCRs of one bank. A TPM returns at most 8 digests per call and says which
   * it returned, so this asks again for the rest.
   */
  async pcrRead(hash: number, pcrs: readonly number[]): Promise<Map<number, Buffer>> {
    const out = new Map<number, Buffer>();
    let remaining = [...pcrs];
    for (let round = 0; remaining.length > 0; round++) {
      if (round > pcrs.length) throw new SealedError('TPM_ERROR', 'TPM2_PCR_Read keeps returning no values for the requested PCRs.', { transport: this.transport.name });
      const w = new Writer();
      writePcrSelections(w, [{ hash, pcrs: remaining }]);
      const { params } = await this.command(TPM_CC.PCR_Read, { params: w.finish() });
      const got = this.parse(TPM_CC.PCR_Read, () => {
        params.u32('pcrUpdateCounter');
        const sel = readPcrSelections(params, 'pcrSelectionOut');
        const count = params.u32('pcrValues.count');
        if (count > 8) throw new TpmFormatError(`${count} digests in one PCR_Read`);
        const digests: Buffer[] = [];
        for (let i = 0; i < count; i++) digests.push(Buffer.from(params.sized('pcrValues.digest', 64)));
        const returned = sel.filter((s) => s.hash === hash).flatMap((s) => s.pcrs);
        if (returned.length !== digests.length) throw new TpmFormatError(`${returned.length} PCRs selected but ${digests.length} digests returned`);
        return returned.map((p, i) => [p, digests[i]!] as const);
      });
      if (got.length === 0) {
        throw new SealedError('TPM_ERROR', `The TPM returned no values for PCRs ${remaining.join(', ')}; they are not in its bank.`, { transport: this.transport.name });
      }
      for (const [p, d] of got) {
        if (!remaining.includes(p)) throw malformed('TPM2_PCR_Read', this.transport.name, new TpmFormatError(`PCR ${p} was not asked for`));
        out.set(p, d);
      }
      remaining = remaining.filter((p) => !out.has(p));
    }
    return out;
  }

  /** TPM2_CreatePrimary under `hierarchy` with the given TPMT_PUBLIC template (empty auth, no outside info). */
  async createPrimary(hierarchy: number, template: Buffer): Promise<{ handle: number; publicArea: Buffer; name: Buffer }> {
    const p = new Writer();
    p.sized(new Writer().sized(Buffer.alloc(0)).sized(Buffer.alloc(0)).finish()); // inSensitive: empty userAuth, empty data
    p.sized(template); // inPublic
    p.sized(Buffer.alloc(0)); // outsideInfo
    p.u32(0); // creationPCR: none
    return this.serialized(async () => {
      const res = await this.send(TPM_CC.CreatePrimary, {
        handles: [hierarchy],
        authorized: 1,
        params: p.finish(),
        responseHandles: 1,
        timeoutMs: this.options.slowCommandMs,
      });
      const handle = res.handles[0]!;
      this.liveHandles.add(handle);
      return this.parse(TPM_CC.CreatePrimary, () => {
        const publicArea = Buffer.from(readPublicBytes(res.params));
        res.params.sized('creationData', 4096);
        res.params.sized('creationHash', 64);
        res.params.u16('creationTicket.tag');
        res.params.u32('creationTicket.hierarchy');
        res.params.sized('creationTicket.digest', 64);
        const name = Buffer.from(res.params.sized('name', 66));
        return { handle, publicArea, name };
      });
    });
  }

  /** TPM2_ReadPublic: the public area and name of a loaded or persistent object. */
  async readPublic(handle: number): Promise<{ publicArea: Buffer; name: Buffer }> {
    const { params } = await this.command(TPM_CC.ReadPublic, { handles: [handle] });
    return this.parse(TPM_CC.ReadPublic, () => {
      const publicArea = Buffer.from(readPublicBytes(params));
      const name = Buffer.from(params.sized('name', 66));
      params.sized('qualifiedName', 66);
      return { publicArea, name };
    });
  }

  /** TPM2_Quote with the key's own scheme; returns the TPMS_ATTEST and TPMT_SIGNATURE bytes. */
  async quote(handle: number, qualifyingData: Buffer, selection: PcrSelection[]): Promise<{ attest: Buffer; signature: Buffer }> {
    const p = new Writer();
    p.sized(qualifyingData);
    p.u16(TPM_ALG.NULL); // inScheme: TPM_ALG_NULL, use the key's scheme
    writePcrSelections(p, selection);
    const { params } = await this.command(TPM_CC.Quote, { handles: [handle], authorized: 1, params: p.finish() });
    return this.parse(TPM_CC.Quote, () => {
      const attest = Buffer.from(params.sized('quoted', 4096));
      const signature = readSignatureBytes(params);
      return { attest, signature };
    });
  }

  /** TPM2_FlushContext: unloads a transient object. */
  async flush(handle: number): Promise<void> {
    try {
      await this.command(TPM_CC.FlushContext, { params: new Writer().u32(handle).finish() });
    } catch (e) {
      // The TPM says it cannot flush it (already gone): nothing left to do for this handle.
      if (e instanceof TpmCommandError) this.liveHandles.delete(handle);
      throw e;
    }
    this.liveHandles.delete(handle);
  }

  /** TPM2_NV_ReadPublic: an NV index's attributes and size. */
  async nvReadPublic(index: number): Promise<{ attributes: number; dataSize: number }> {
    const { params } = await this.command(TPM_CC.NV_ReadPublic, { handles: [index] });
    return this.parse(TPM_CC.NV_ReadPublic, () => {
      const pub = params.sub(params.u16('nvPublic.size'), 'TPMS_NV_PUBLIC');
      pub.u32('nvIndex');
      pub.u16('nameAlg');
      const attributes = pub.u32('attributes');
      pub.sized('authPolicy', 64);
      const dataSize = pub.u16('dataSize');
      return { attributes, dataSize };
    });
  }

  /** TPM2_NV_Read of `size` bytes at `offset`, authorized by `authHandle` with an empty password. */
  async nvRead(authHandle: number, index: number, size: number, offset: number): Promise<Buffer> {
    const { params } = await this.command(TPM_CC.NV_Read, {
      handles: [authHandle, index],
      authorized: 1,
      params: new Writer().u16(size).u16(offset).finish(),
    });
    return this.parse(TPM_CC.NV_Read, () => Buffer.from(params.sized('data', size)));
  }
}

function malformed(command: string, transport: string, e: unknown): SealedError {
  if (e instanceof SealedError) return e;
  return new SealedError('TPM_ERROR', `The TPM's response to ${command} is malformed: ${(e as Error).message}.`, { transport, tpm_command: command });
}

/** Splits a successful response into its handles and a reader over its parameters. */
function parseResponse(buf: Buffer, handleCount: number): CommandResult {
  const r = new Reader(buf, 'response');
  const tag = r.u16('tag');
  r.u32('responseSize');
  r.u32('responseCode');
  const handles: number[] = [];
  for (let i = 0; i < handleCount; i++) handles.push(r.u32('handle'));
  if (tag === TPM_ST.SESSIONS) {
    const size = r.u32('parameterSize');
    const params = r.sub(size, 'response parameters');
    // What follows is the session area (nonce, attributes, hmac per session); password sessions carry nothing we need.
    return { handles, params };
  }
  if (tag !== TPM_ST.NO_SESSIONS) throw new TpmFormatError(`unexpected response tag 0x${tag.toString(16)}`);
  return { handles, params: r.sub(r.remaining, 'response parameters') };
}
