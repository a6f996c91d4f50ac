// A real SoftHSM2 token in the test's own folder: its own SOFTHSM2_CONF and token directory, so tests
// never touch the machine's tokens and can run side by side.

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsm {
  conf: string;
  label: string;
  pin: string;
  /** A 0600 file holding the user PIN. */
  pinFile: string;
  /** The key URI of `object` on this token, with pin-source unless `pin` is false. */
  uri(object: string, opts?: { pin?: boolean | string; token?: string }): string;
  env: NodeJS.ProcessEnv;
}

export function initSoftHsm(dir: string, label = 'sealed'): SoftHsm {
  mkdirSync(join(dir, 'tokens'), { recursive: true });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  const pin = '246810';
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', '13579', '--pin', pin], { env, stdio: 'ignore' });
  const pinFile = join(dir, 'pin');
  writeFileSync(pinFile, `${pin}\n`, { mode: 0o600 });
  return {
    conf,
    label,
    pin,
    pinFile,
    env: { SOFTHSM2_CONF: conf },
    uri(object, opts = {}) {
      const pinPart = opts.pin === false ? '' : `&pin-source=file:${typeof opts.pin === 'string' ? opts.pin : pinFile}`;
      return `pkcs11:token=${opts.token ?? label};object=${object}?module-path=${SOFTHSM_MODULE}${pinPart}`;
    },
  };
}
