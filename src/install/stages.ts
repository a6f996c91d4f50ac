// The stages one package goes through, as the orchestration reports them to whoever prints progress.

import type { SourceBody } from '../chain/types.js';

export type Stage = 'fetched' | 'verified' | 'built' | 'sealed' | 'reused' | 'installed';

export interface StageEvent {
  /** "name version" */
  package: string;
  stage: Stage;
  detail?: string;
  seconds?: number;
}

/** What fetching and checking a source amounted to: the stages to report once it is ready (pure). */
export function sourceStages(pkg: string, body: SourceBody): StageEvent[] {
  const kb = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${Math.max(1, Math.round(n / 1024))} KiB`);
  switch (body.kind) {
    case 'index':
      return [
        { package: pkg, stage: 'fetched', detail: `${body.filename} (${kb(body.size)})` },
        { package: pkg, stage: 'verified', detail: `sha256 ${body.sha256.slice(0, 16)}… matches the index; archive checked` },
      ];
    case 'sdist':
      return [{ package: pkg, stage: 'verified', detail: `${body.filename} sha256 ${body.sha256.slice(0, 16)}…; archive checked` }];
    default:
      return [];
  }
}
