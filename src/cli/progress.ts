// Stage lines: what a CI log shows while packages are fetched, verified, built, sealed, reused and
// installed. On a terminal the stage is the self-overwriting status line; anywhere else (a pipe, a CI
// log) it is one line per stage on stderr, so stdout keeps only the result (one JSON document under
// --json). --quiet silences them.

import type { Output } from './output.js';
import type { StageEvent } from '../install/stages.js';

export type { StageEvent } from '../install/stages.js';

/** The words of one stage line, without a timestamp (pure). */
export function stageLine(e: StageEvent): string {
  const what = `${e.package}:`;
  switch (e.stage) {
    case 'fetched':
      return `${what} fetched ${e.detail ?? 'the sdist'}`;
    case 'verified':
      return `${what} verified ${e.detail ?? 'the sdist'}`;
    case 'built':
      return `${what} built${e.seconds !== undefined ? ` in ${e.seconds.toFixed(1)} s` : ''}${e.detail ? ` (${e.detail})` : ''}`;
    case 'sealed':
      return `${what} sealed${e.detail ? ` by ${e.detail}` : ''}`;
    case 'reused':
      return `${what} reused the stored seal${e.detail ? ` by ${e.detail}` : ''}`;
    case 'installed':
      return `${what} installed${e.detail ? ` into ${e.detail}` : ''}`;
  }
}

export class StageLog {
  constructor(
    private readonly out: Output,
    private readonly stderr: NodeJS.WritableStream,
  ) {}

  readonly report = (e: StageEvent): void => {
    if (this.out.quiet) return;
    const line = stageLine(e);
    if (this.out.interactive && !this.out.verbose) {
      this.out.progress(line);
      return;
    }
    this.out.clearProgress();
    this.stderr.write(`${line}\n`);
  };
}
