// Temporary: commands whose modules are being written. Removed when every command has landed.
import type { Command } from '../command.js';
import { SealedError } from '../../errors.js';

export function pending(name: string): Command {
  return {
    name,
    usage: name,
    summary: `${name} (not available yet)`,
    options: {},
    maxPositionals: 99,
    async run() {
      throw new SealedError('INTERNAL', `sealed ${name} is not available in this build yet.`);
    },
  };
}
