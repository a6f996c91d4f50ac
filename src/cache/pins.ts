// The last checkpoint this home saw of each log, pinned on first use like an ssh host key: a later
// checkpoint must extend it (checked by a consistency proof) before it replaces it. Kept in the
// registry's SQLite file, in the table its schema migrations make (cache_checkpoints), and changed only
// inside an IMMEDIATE transaction that re-reads the row, so two processes cannot move a pin backwards.

import { openDatabase } from '../registry/db.js';
import type { Checkpoint } from './checkpoint.js';

export interface SeenCheckpoint extends Checkpoint {
  url: string;
  note: string;
  seenAt: string;
}

interface Row {
  origin: string;
  url: string;
  size: number;
  root: string;
  note: string;
  seen_at: string;
}

export class CheckpointPins {
  private constructor(private readonly db: ReturnType<typeof openDatabase>) {}

  static open(home: string): CheckpointPins {
    // The table is the registry's own (its schema migrations make it).
    return new CheckpointPins(openDatabase(home));
  }

  close(): void {
    this.db.close();
  }

  get(origin: string): SeenCheckpoint | null {
    const r = this.db.prepare('SELECT * FROM cache_checkpoints WHERE origin = ?').get(origin) as Row | undefined;
    return r ? { origin: r.origin, url: r.url, size: r.size, root: Buffer.from(r.root, 'base64'), note: r.note, seenAt: r.seen_at } : null;
  }

  /**
   * Records `cp` as seen when it is newer than what is pinned. `extendsPinned(pinned)` must have been
   * checked by the caller for the pin it read; if the pin moved meanwhile, returns the new pin so the
   * caller checks again.
   */
  advance(url: string, cp: Checkpoint & { note: string }, checkedAgainst: Checkpoint | null): { updated: boolean; conflict: SeenCheckpoint | null } {
    return this.db
      .transaction(() => {
        const now = this.get(cp.origin);
        if (now !== null && (checkedAgainst === null || now.size !== checkedAgainst.size || !now.root.equals(checkedAgainst.root))) return { updated: false, conflict: now };
        if (now !== null && now.size >= cp.size) return { updated: false, conflict: null };
        this.db
          .prepare('INSERT INTO cache_checkpoints (origin, url, size, root, note, seen_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET url = excluded.url, size = excluded.size, root = excluded.root, note = excluded.note, seen_at = excluded.seen_at')
          .run(cp.origin, url, cp.size, cp.root.toString('base64'), cp.note, new Date().toISOString());
        return { updated: true, conflict: null };
      })
      .immediate();
  }
}
