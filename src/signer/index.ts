export { openSigner, describeKey, generateKey, encryptKey, locateKey, parseKeyUri, signingKeyOf, type SignerOptions, type KeyLocation } from './open.js';
export { parsePkcs11Uri, type Pkcs11Uri } from './pkcs11-uri.js';
export { terminalPrompter, withoutKeySecrets, type Prompter } from './secrets.js';
export { DEFAULT_KDF, KDF_FLOOR, ENCRYPTED_KEY_FORMAT, ENCRYPTED_KEY_VERSION, type KdfParams } from './encrypted.js';
export { KEY_KINDS, isKeyKind, signerText, type KeyKind, type Signer, type SignerBody, type KeyDescription } from './types.js';
