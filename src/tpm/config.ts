// SEALED_TPM (SPEC section 8): auto (default), off, device:PATH, swtpm:HOST:PORT.

import { SealedError } from '../errors.js';

export type TpmConfig = { kind: 'off' } | { kind: 'auto' } | { kind: 'device'; path: string } | { kind: 'swtpm'; host: string; port: number };

/** The kernel's resource-managed TPM device, which `auto` uses when it exists. */
export const DEFAULT_DEVICE = '/dev/tpmrm0';

const FORMS = 'SEALED_TPM takes auto, off, device:PATH (e.g. device:/dev/tpmrm0) or swtpm:HOST:PORT (e.g. swtpm:127.0.0.1:2321).';

function usage(value: string, why: string): SealedError {
  return new SealedError('USAGE', `SEALED_TPM=${JSON.stringify(value)} ${why}.`, { found: value, hint: FORMS });
}

export function tpmConfigFromEnv(env: NodeJS.ProcessEnv): TpmConfig {
  return parseTpmSetting(env.SEALED_TPM);
}

export function parseTpmSetting(raw: string | undefined): TpmConfig {
  const value = (raw ?? '').trim();
  const lower = value.toLowerCase();
  if (lower === '' || lower === 'auto') return { kind: 'auto' };
  if (lower === 'off') return { kind: 'off' };
  const colon = value.indexOf(':');
  const scheme = colon === -1 ? lower : lower.slice(0, colon);
  const rest = colon === -1 ? '' : value.slice(colon + 1);
  if (scheme === 'device') {
    if (!rest) throw usage(value, 'names no device path');
    if (rest.includes('\0')) throw usage(value, 'has a NUL byte in the device path');
    return { kind: 'device', path: rest };
  }
  if (scheme === 'swtpm') {
    // HOST:PORT, with an IPv6 host in brackets: swtpm:[::1]:2321
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(rest);
    if (!m) throw usage(value, 'is not swtpm:HOST:PORT');
    const port = Number(m[3]);
    if (port < 1 || port > 65535) throw usage(value, `has port ${port}, outside 1-65535`);
    return { kind: 'swtpm', host: (m[1] ?? m[2])!, port };
  }
  throw usage(value, 'is not a TPM setting Sealed knows');
}

export function describeConfig(config: TpmConfig): string {
  switch (config.kind) {
    case 'off':
      return 'off';
    case 'auto':
      return 'auto';
    case 'device':
      return `device:${config.path}`;
    case 'swtpm':
      return `swtpm:${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  }
}
