// Shared by the registry tests: temporary homes, running the CLI, writing export documents.

import { spawnSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { cliPath } from '../helpers/paths.js';
import type { Seal } from '../../src/seal/index.js';
import type { ExportPin, ExportRevocation } from '../../src/registry/index.js';

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

export function tempDir(label = 'reg'): string {
  const d = mkdtempSync(join(tmpdir(), `sealed-${label}-`));
  made.push(d);
  return d;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Parsed stdout when --json was given. */
  json: Record<string, any>;
}

export function cli(home: string, args: string[], opts: { cwd?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [cliPath(), '--home', home, ...args], {
    encoding: 'utf8',
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 256 * 1024 * 1024,
  });
  let json: Record<string, any> = {};
  if (args.includes('--json')) {
    try {
      json = JSON.parse(r.stdout) as Record<string, any>;
    } catch {
      json = { unparsed: r.stdout };
    }
  }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json };
}

export function cliAsync(home: string, args: string[]): ChildProcess {
  return spawn(process.execPath, [cliPath(), '--home', home, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
}

export function exportDoc(seals: unknown[], pins: ExportPin[] = [], revocations: ExportRevocation[] = []): Record<string, unknown> {
  return { format: 'sealed-export', version: 1, exported_at: '2024-06-01T00:00:00Z', package: null, seals, pins, revocations };
}

export function writeExport(path: string, seals: Seal[] | unknown[], pins: ExportPin[] = [], revocations: ExportRevocation[] = []): string {
  writeFileSync(path, JSON.stringify(exportDoc(seals, pins, revocations)));
  return path;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
