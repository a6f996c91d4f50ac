import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSealedError } from '../../src/errors.js';
import { parsePkcs11Uri } from '../../src/signer/pkcs11-uri.js';
import { parseKeyUri } from '../../src/signer/open.js';

const MOD = 'module-path=/usr/lib/softhsm/libsofthsm2.so';

describe('parsing pkcs11: key URIs (RFC 7512)', () => {
  it('when well formed, gives the token, object, module and PIN source', () => {
    const u = parsePkcs11Uri(`pkcs11:token=sealed;object=sealkey?${MOD}&pin-source=file:/run/pin`);
    assert.deepEqual(u, { token: 'sealed', object: 'sealkey', modulePath: '/usr/lib/softhsm/libsofthsm2.so', pinSource: '/run/pin' });
  });

  it('when values are percent-encoded, decodes them (spaces, UTF-8, binary ids)', () => {
    const u = parsePkcs11Uri(`pkcs11:token=My%20Token;manufacturer=SoftHSM%20project;object=cl%C3%A9;id=%01%ff;type=private;slot-id=7?${MOD}`);
    assert.equal(u.token, 'My Token');
    assert.equal(u.manufacturer, 'SoftHSM project');
    assert.equal(u.object, 'clé');
    assert.deepEqual(u.id, Buffer.from([1, 255]));
    assert.equal(u.type, 'private');
    assert.equal(u.slotId, 7);
  });

  it('when the scheme is written in capitals, still reads it; file:///abs pin sources are accepted', () => {
    assert.equal(parsePkcs11Uri(`PKCS11:token=t;object=o?${MOD}&pin-source=file:///run/pin`).pinSource, '/run/pin');
  });

  const bad: [string, string][] = [
    ['an unknown path attribute', `pkcs11:token=t;object=o;colour=red?${MOD}`],
    ['an unknown query attribute', `pkcs11:token=t;object=o?${MOD}&verbose=1`],
    ['a vendor attribute', `pkcs11:token=t;object=o;x-vendor=1?${MOD}`],
    ['a repeated attribute', `pkcs11:token=t;token=u;object=o?${MOD}`],
    ['a query attribute in the path', `pkcs11:token=t;object=o;module-path=/x.so`],
    ['a path attribute in the query', `pkcs11:token=t?${MOD}&object=o`],
    ['a PIN in the URI', `pkcs11:token=t;object=o?${MOD}&pin-value=1234`],
    ['a lone percent', `pkcs11:token=t%;object=o?${MOD}`],
    ['a bad escape', `pkcs11:token=t%g1;object=o?${MOD}`],
    ['invalid UTF-8', `pkcs11:token=%ff%fe;object=o?${MOD}`],
    ['a control character', `pkcs11:token=a%0Ab;object=o?${MOD}`],
    ['an unescaped space', `pkcs11:token=a b;object=o?${MOD}`],
    ['an unescaped slash in the path', `pkcs11:token=a/b;object=o?${MOD}`],
    ['no module', 'pkcs11:token=t;object=o'],
    ['a relative module path', 'pkcs11:token=t;object=o?module-path=libsofthsm2.so'],
    ['no token', `pkcs11:object=o?${MOD}`],
    ['no object', `pkcs11:token=t?${MOD}`],
    ['a certificate type', `pkcs11:token=t;object=o;type=cert?${MOD}`],
    ['a non-numeric slot id', `pkcs11:token=t;object=o;slot-id=one?${MOD}`],
    ['an attribute without a value sign', `pkcs11:token;object=o?${MOD}`],
    ['an empty id', `pkcs11:token=t;id=?${MOD}`],
    ['a relative pin source', `pkcs11:token=t;object=o?${MOD}&pin-source=file:pin.txt`],
    ['an unsupported attribute of RFC 7512', `pkcs11:token=t;object=o;library-version=1?${MOD}`],
    ['an over-long URI', `pkcs11:token=${'a'.repeat(5000)};object=o?${MOD}`],
  ];
  for (const [what, uri] of bad) {
    it(`when it has ${what}, refuses it (MALFORMED_KEY_URI)`, () => {
      assert.throws(() => parsePkcs11Uri(uri), (e) => isSealedError(e, 'MALFORMED_KEY_URI'));
    });
  }

  it('when refused, the message never carries a pin-value', () => {
    try {
      parsePkcs11Uri(`pkcs11:token=t;object=o?${MOD}&pin-value=secret-pin`);
      assert.fail('accepted');
    } catch (e) {
      assert.ok(!(e as Error).message.includes('secret-pin'));
    }
  });
});

describe('key URIs', () => {
  it('when file:, names a key file (relative to the working folder, or a file:// URL)', () => {
    assert.deepEqual(parseKeyUri('file:keys/k', '/home/u'), { scheme: 'file', path: '/home/u/keys/k', isDefault: false });
    assert.deepEqual(parseKeyUri('file:///etc/sealed/key', '/x'), { scheme: 'file', path: '/etc/sealed/key', isDefault: false });
  });
  it('when the scheme is missing or unknown, refuses it rather than guessing', () => {
    for (const u of ['/home/u/key', 'ssh-agent:', 'kms://key', 'file:']) assert.throws(() => parseKeyUri(u, '/'), (e) => isSealedError(e, 'MALFORMED_KEY_URI'), u);
  });
});
