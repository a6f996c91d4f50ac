// A signing key on a PKCS #11 token (a hardware token, an HSM, SoftHSM2): Ed25519 with CKM_EDDSA, the
// private key created non-extractable and sensitive on the token and never read. pkcs11js is an optional
// dependency, loaded only when a pkcs11: URI is used.

import { isSealedError, SealedError } from '../errors.js';
import { isValidPublicKey, verifySignature } from '../seal/index.js';
import { randomBytes } from 'node:crypto';
import { readSecretFile, type Prompter } from './secrets.js';
import { redactUri, type Pkcs11Uri } from './pkcs11-uri.js';
import type { KeyDescription, Signer } from './types.js';

// PKCS #11 v3.0 numbers (pkcs11js 2.1 does not name the Edwards-curve ones).
const CKM_EDDSA = 0x1057;
const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
const CKK_EC_EDWARDS = 0x40;
// DER of the OID id-Ed25519 (1.3.101.112), as CKA_EC_PARAMS; some tokens answer with the curve name instead.
const ED25519_PARAMS = Buffer.from('06032b6570', 'hex');
const ED25519_NAME_PARAMS = Buffer.concat([Buffer.from([0x13, 12]), Buffer.from('edwards25519', 'ascii')]);

type Handle = Buffer;
interface Attribute { type: number; value?: number | boolean | string | Buffer }
interface TokenInfo { label: string; manufacturerID: string; model: string; serialNumber: string }
/** The part of pkcs11js Sealed uses (declared here so Sealed compiles without the optional module). */
interface Pkcs11Module {
  load(path: string): void;
  C_Initialize(): void;
  C_Finalize(): void;
  close(): void;
  C_GetSlotList(tokenPresent: boolean): Handle[];
  C_GetTokenInfo(slot: Handle): TokenInfo;
  C_OpenSession(slot: Handle, flags: number): Handle;
  C_CloseSession(session: Handle): void;
  C_Login(session: Handle, userType: number, pin: string): void;
  C_Logout(session: Handle): void;
  C_FindObjectsInit(session: Handle, template: Attribute[]): void;
  C_FindObjects(session: Handle, max: number): Handle[];
  C_FindObjectsFinal(session: Handle): void;
  C_GetAttributeValue(session: Handle, object: Handle, template: Attribute[]): { type: number; value: Buffer }[];
  C_GenerateKeyPair(session: Handle, mechanism: { mechanism: number }, pub: Attribute[], priv: Attribute[]): { privateKey: Handle; publicKey: Handle };
  C_SignInit(session: Handle, mechanism: { mechanism: number }, key: Handle): void;
  C_Sign(session: Handle, data: Buffer, out: Buffer): Buffer;
}
interface Pkcs11Binding {
  PKCS11: new () => Pkcs11Module;
  [constant: string]: unknown;
}

async function loadBinding(): Promise<Pkcs11Binding> {
  try {
    const mod = (await import('pkcs11js' as string)) as { default?: Pkcs11Binding } & Pkcs11Binding;
    return mod.default ?? mod;
  } catch (e) {
    throw new SealedError('PKCS11_UNAVAILABLE', `A pkcs11: key URI needs the optional module pkcs11js, which is not installed (${(e as Error).message.split('\n')[0]}).`, {
      hint: 'Install it where Sealed is installed: `npm install pkcs11js` (it compiles with node-gyp: needs python3, make and a C++ compiler).',
    });
  }
}

function num(b: Pkcs11Binding, name: string): number {
  const v = b[name];
  if (typeof v !== 'number') throw new SealedError('PKCS11_UNAVAILABLE', `pkcs11js does not define ${name}; it is too old or broken.`, { hint: 'Update it: npm install pkcs11js@latest' });
  return v;
}

function rvOf(e: unknown): string {
  const m = e instanceof Error ? /CKR_[A-Z_]+/.exec(e.message) : null;
  return m ? m[0] : e instanceof Error ? e.message.split('\n')[0] ?? 'error' : String(e);
}

const trim = (s: string) => s.replace(/[\s\u0000]+$/, '');

/** An open session on the token the URI names; everything that touches the token goes through it. */
class TokenSession {
  private closed = false;
  private loggedIn = false;
  private constructor(
    readonly b: Pkcs11Binding,
    readonly m: Pkcs11Module,
    readonly session: Handle,
    readonly token: TokenInfo,
    readonly uri: Pkcs11Uri,
    readonly text: string,
  ) {}

  static async open(uri: Pkcs11Uri, text: string, write: boolean): Promise<TokenSession> {
    const b = await loadBinding();
    const m = new b.PKCS11();
    const modulePath = uri.modulePath!;
    try {
      m.load(modulePath);
    } catch (e) {
      throw new SealedError('PKCS11_UNAVAILABLE', `Cannot load the PKCS #11 module ${modulePath}: ${rvOf(e)}.`, {
        hint: 'Check module-path in the key URI (for SoftHSM2 on Debian: /usr/lib/softhsm/libsofthsm2.so).',
      });
    }
    try {
      try {
        m.C_Initialize();
      } catch (e) {
        if (rvOf(e) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw e;
      }
      const { slot, token } = findToken(m, uri, text);
      const flags = num(b, 'CKF_SERIAL_SESSION') | (write ? num(b, 'CKF_RW_SESSION') : 0);
      const session = m.C_OpenSession(slot, flags);
      return new TokenSession(b, m, session, token, uri, text);
    } catch (e) {
      try { m.C_Finalize(); } catch { /* not initialised */ }
      try { m.close(); } catch { /* already closed */ }
      throw tokenError(e, text);
    }
  }

  login(pin: string): void {
    try {
      this.m.C_Login(this.session, num(this.b, 'CKU_USER'), pin);
      this.loggedIn = true;
    } catch (e) {
      const rv = rvOf(e);
      if (rv === 'CKR_USER_ALREADY_LOGGED_IN') return;
      if (rv === 'CKR_PIN_INCORRECT' || rv === 'CKR_PIN_LEN_RANGE' || rv === 'CKR_PIN_INVALID') {
        throw new SealedError('KEY_PIN_WRONG', `The token "${trim(this.token.label)}" refused the PIN (${rv}).`, {
          hint: 'Check the file named by pin-source. Tokens lock after a few wrong PINs.',
        });
      }
      if (rv === 'CKR_PIN_LOCKED') throw new SealedError('KEY_PIN_WRONG', `The token "${trim(this.token.label)}" is locked after too many wrong PINs (CKR_PIN_LOCKED).`, { hint: 'Unlock it with its security officer PIN.' });
      throw tokenError(e, this.text);
    }
  }

  find(cls: 'public' | 'private'): Handle[] {
    const t: Attribute[] = [
      { type: num(this.b, 'CKA_CLASS'), value: num(this.b, cls === 'public' ? 'CKO_PUBLIC_KEY' : 'CKO_PRIVATE_KEY') },
      { type: num(this.b, 'CKA_KEY_TYPE'), value: CKK_EC_EDWARDS },
    ];
    if (this.uri.object !== undefined) t.push({ type: num(this.b, 'CKA_LABEL'), value: this.uri.object });
    if (this.uri.id !== undefined) t.push({ type: num(this.b, 'CKA_ID'), value: this.uri.id });
    this.m.C_FindObjectsInit(this.session, t);
    try {
      return this.m.C_FindObjects(this.session, 8);
    } finally {
      this.m.C_FindObjectsFinal(this.session);
    }
  }

  one(cls: 'public' | 'private'): Handle {
    const found = this.find(cls);
    if (found.length === 1) return found[0]!;
    if (found.length === 0) {
      throw new SealedError('TOKEN_KEY_NOT_FOUND', `The token "${trim(this.token.label)}" holds no Ed25519 ${cls} key matching ${redactUri(this.text)}${cls === 'private' ? ' that this PIN can use' : ''}.`, {
        hint: `Create one with \`sealed key generate --key-uri '${this.text}'\`, or check object= / id= in the URI.`,
      });
    }
    throw new SealedError('MALFORMED_KEY_URI', `${found.length} ${cls} keys on the token "${trim(this.token.label)}" match ${redactUri(this.text)}; it must name exactly one.`, {
      hint: 'Add id=%XX... to the URI to pick one.',
    });
  }

  attr(object: Handle, name: string): Buffer {
    return this.m.C_GetAttributeValue(this.session, object, [{ type: num(this.b, name) }])[0]!.value;
  }

  publicKey(): Buffer {
    const handle = this.one('public');
    const params = this.attr(handle, 'CKA_EC_PARAMS');
    if (!params.equals(ED25519_PARAMS) && !params.equals(ED25519_NAME_PARAMS)) {
      throw new SealedError('TOKEN_ERROR', `The key on the token "${trim(this.token.label)}" is not on curve Ed25519 (CKA_EC_PARAMS ${params.toString('hex')}).`);
    }
    const point = this.attr(handle, 'CKA_EC_POINT');
    // CKA_EC_POINT is a DER OCTET STRING around the 32 bytes; some tokens give the bare 32 bytes.
    const raw = point.length === 34 && point[0] === 0x04 && point[1] === 0x20 ? point.subarray(2) : point;
    if (raw.length !== 32 || !isValidPublicKey(raw)) throw new SealedError('TOKEN_ERROR', `The token "${trim(this.token.label)}" returned a public key that is not a valid Ed25519 point.`);
    return Buffer.from(raw);
  }

  info() {
    return { label: trim(this.token.label), manufacturer: trim(this.token.manufacturerID), model: trim(this.token.model), serial: trim(this.token.serialNumber) };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try { if (this.loggedIn) this.m.C_Logout(this.session); } catch { /* session gone */ }
    try { this.m.C_CloseSession(this.session); } catch { /* session gone */ }
    try { this.m.C_Finalize(); } catch { /* not initialised */ }
    try { this.m.close(); } catch { /* already closed */ }
  }
}

function findToken(m: Pkcs11Module, uri: Pkcs11Uri, text: string): { slot: Handle; token: TokenInfo } {
  const seen: string[] = [];
  const matches: { slot: Handle; token: TokenInfo }[] = [];
  for (const slot of m.C_GetSlotList(true)) {
    const token = m.C_GetTokenInfo(slot);
    seen.push(`"${trim(token.label)}"`);
    if (uri.token !== undefined && trim(token.label) !== uri.token) continue;
    if (uri.manufacturer !== undefined && trim(token.manufacturerID) !== uri.manufacturer) continue;
    if (uri.model !== undefined && trim(token.model) !== uri.model) continue;
    if (uri.serial !== undefined && trim(token.serialNumber) !== uri.serial) continue;
    if (uri.slotId !== undefined && slot.readBigUInt64LE(0) !== BigInt(uri.slotId)) continue;
    matches.push({ slot, token });
  }
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) {
    throw new SealedError('TOKEN_NOT_FOUND', `No token matching ${redactUri(text)} is present (tokens present: ${seen.length > 0 ? seen.join(', ') : 'none'}).`, {
      hint: 'Insert the token, or check token= in the key URI (and SOFTHSM2_CONF for SoftHSM2).',
    });
  }
  throw new SealedError('MALFORMED_KEY_URI', `${matches.length} tokens match ${redactUri(text)}; add serial= to pick one.`);
}

function tokenError(e: unknown, text: string): SealedError {
  if (e instanceof SealedError) return e;
  return new SealedError('TOKEN_ERROR', `The PKCS #11 token of ${redactUri(text)} failed: ${rvOf(e)}.`);
}

async function pinFor(uri: Pkcs11Uri, label: string, prompter: Prompter): Promise<string> {
  if (uri.pinSource !== undefined) {
    try {
      return readSecretFile(uri.pinSource, 'PIN');
    } catch (e) {
      if (isSealedError(e, 'KEY_PERMISSIONS')) throw e;
      throw new SealedError('KEY_PIN_MISSING', (e as Error).message, { hint: 'pin-source=file:PATH must name a readable file holding the PIN on one line.' });
    }
  }
  if (prompter.interactive) return prompter.ask(`PIN for token "${label}": `);
  throw new SealedError('KEY_PIN_MISSING', `The token "${label}" needs its user PIN and there is no terminal to ask at.`, {
    hint: 'Add pin-source=file:/path/to/pin to the key URI (a 0600 file holding the PIN), or run at a terminal to be asked.',
  });
}

/** Opens the token key for signing: logs in with the PIN and signs there with CKM_EDDSA. */
export async function openPkcs11Signer(uri: Pkcs11Uri, text: string, prompter: Prompter): Promise<Signer> {
  const t = await TokenSession.open(uri, text, false);
  try {
    const publicKey = t.publicKey();
    t.login(await pinFor(uri, t.info().label, prompter));
    const priv = t.one('private');
    const info = t.info();
    return {
      kind: 'pkcs11',
      location: text, // parsePkcs11Uri refuses pin-value, so the URI holds no secret
      publicKey: () => Buffer.from(publicKey),
      sign(message) {
        let sig: Buffer;
        try {
          t.m.C_SignInit(t.session, { mechanism: CKM_EDDSA }, priv);
          sig = t.m.C_Sign(t.session, Buffer.from(message), Buffer.alloc(64));
        } catch (e) {
          throw tokenError(e, text);
        }
        // The token's public and private objects are separate: a signature is kept only when it verifies
        // under the public key the seal will name.
        if (!verifySignature(publicKey, message, sig)) {
          throw new SealedError('TOKEN_ERROR', `The token "${info.label}" signed with a key that does not match its public key object; refusing the signature.`);
        }
        return Buffer.from(sig);
      },
      body: () => ({ kind: 'pkcs11', manufacturer: info.manufacturer, model: info.model }),
      close: () => t.close(),
    };
  } catch (e) {
    t.close();
    throw e;
  }
}

/** `key show` for a token key: reads the public key object; no PIN, nothing private. */
export async function describePkcs11Key(uri: Pkcs11Uri, text: string): Promise<KeyDescription> {
  const t = await TokenSession.open(uri, text, false);
  try {
    return { kind: 'pkcs11', location: text, publicKey: t.publicKey(), token: t.info() };
  } finally {
    t.close();
  }
}

/** Makes a new Ed25519 key pair on the token: private half sensitive, non-extractable, usable only to sign. */
export async function generatePkcs11Key(uri: Pkcs11Uri, text: string, prompter: Prompter): Promise<KeyDescription> {
  if (uri.object === undefined) throw new SealedError('MALFORMED_KEY_URI', `To create a key, the URI ${redactUri(text)} must name it with object=LABEL.`);
  const t = await TokenSession.open(uri, text, true);
  try {
    t.login(await pinFor(uri, t.info().label, prompter));
    if (t.find('public').length > 0 || t.find('private').length > 0) {
      throw new SealedError('KEY_EXISTS', `The token "${t.info().label}" already holds a key matching ${redactUri(text)}; not creating another.`, {
        hint: 'Pick another object= label, or delete the old key with the token\'s own tool (e.g. pkcs11-tool --delete-object) if you mean to replace it.',
      });
    }
    const id = uri.id ?? randomBytes(16);
    const a = (name: string, value: Attribute['value']): Attribute => ({ type: num(t.b, name), value });
    try {
      t.m.C_GenerateKeyPair(
        t.session,
        { mechanism: CKM_EC_EDWARDS_KEY_PAIR_GEN },
        [a('CKA_TOKEN', true), a('CKA_PRIVATE', false), a('CKA_VERIFY', true), a('CKA_LABEL', uri.object), a('CKA_ID', id), a('CKA_EC_PARAMS', ED25519_PARAMS)],
        [
          a('CKA_TOKEN', true),
          a('CKA_PRIVATE', true),
          a('CKA_SENSITIVE', true),
          a('CKA_EXTRACTABLE', false),
          a('CKA_SIGN', true),
          a('CKA_DECRYPT', false),
          a('CKA_DERIVE', false),
          a('CKA_LABEL', uri.object),
          a('CKA_ID', id),
        ],
      );
    } catch (e) {
      throw new SealedError('TOKEN_ERROR', `The token "${t.info().label}" could not create an Ed25519 key (${rvOf(e)}).`, {
        hint: 'The token must support CKM_EC_EDWARDS_KEY_PAIR_GEN and CKM_EDDSA (SoftHSM2 >= 2.6 does).',
      });
    }
    return { kind: 'pkcs11', location: text, publicKey: t.publicKey(), token: t.info() };
  } finally {
    t.close();
  }
}
