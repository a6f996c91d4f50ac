// Warnings that are true on every run of one machine (pip's extra indexes are ignored; there is no TPM)
// are said once per SEALED_HOME, then left out: a marker file per message in <home>/notices records
// that it was said. --verbose always says them. A changed message (another extra index) is new.

import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Output } from './output.js';

/** The warnings that describe the machine, not the run. */
const MACHINE_FACTS: RegExp[] = [/^pip is configured with /, /^No TPM found /];

export function isMachineFact(message: string): boolean {
  return MACHINE_FACTS.some((r) => r.test(message));
}

export class Notices {
  constructor(
    private readonly out: Output,
    private readonly home: string,
  ) {}

  readonly warn = (message: string): void => {
    if (!isMachineFact(message) || this.out.verbose) {
      this.out.warn(message, message);
      return;
    }
    if (this.firstTime(message)) this.out.warn(`${message} (said once for ${this.home}; --verbose repeats it)`, message);
  };

  /** Creates the marker exclusively, so of two concurrent first runs one says it. */
  private firstTime(message: string): boolean {
    const dir = join(this.home, 'notices');
    const marker = join(dir, createHash('sha256').update(message).digest('hex').slice(0, 32));
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch {
      return true; // a marker that cannot be written must not silence the warning
    }
    try {
      closeSync(openSync(marker, 'wx', 0o600));
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code !== 'EEXIST';
    }
  }
}
