// The backend's output goes to a log file that failures point to; the last lines are kept in memory.

import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export class BuildLog {
  private recent: string[] = [];
  private readonly started = Date.now();

  /** `echo` receives every chunk too (the shim passes the backend's output on to the frontend). */
  constructor(
    readonly path: string,
    private readonly echo?: (chunk: Buffer | string) => void,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '');
  }

  section(title: string): void {
    this.write(Buffer.from(`\n===== [+${((Date.now() - this.started) / 1000).toFixed(2)}s] ${title} =====\n`));
  }

  write(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    appendFileSync(this.path, text);
    this.echo?.(chunk);
    this.recent.push(...text.split('\n'));
    if (this.recent.length > 400) this.recent = this.recent.slice(-200);
  }

  tail(lines = 30): string {
    return this.recent.filter((l) => l.trim()).slice(-lines).join('\n');
  }
}
