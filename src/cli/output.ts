// All printing goes through here. With --json, stdout carries exactly one JSON document and everything
// else goes to stderr; progress and colour only on a TTY, never with --json, and NO_COLOR is honoured.

import { SealedError, isSealedError } from '../errors.js';
import { escapeText } from '../core/text.js';

/** Sealed's own lines stay; anything a seal, export, index or backend slipped in is made visible. */
const safe = (text: string) => escapeText(text, { keepLines: true });

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
}

/** A terminal reports isTTY and its width; a pipe or a served build's socket stream does not. */
type Stream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly interactive: boolean;
  readonly color: boolean;
  private warned = new Set<string>();
  private progressShown = false;

  constructor(
    opts: OutputOptions,
    private readonly stdout: Stream = process.stdout,
    private readonly stderr: Stream = process.stderr,
  ) {
    this.json = opts.json;
    this.quiet = opts.quiet;
    this.verbose = opts.verbose;
    this.interactive = Boolean(this.stderr.isTTY) && !opts.json;
    this.color = this.interactive && !process.env.NO_COLOR;
  }

  /** Human-readable information (stderr under --json so stdout stays one document). */
  info(message: string): void {
    if (this.quiet) return;
    this.clearProgress();
    (this.json ? this.stderr : this.stdout).write(safe(message) + '\n');
  }

  detail(message: string): void {
    if (this.verbose) this.info(message);
  }

  warn(message: string, onceKey?: string): void {
    if (onceKey) {
      if (this.warned.has(onceKey)) return;
      this.warned.add(onceKey);
    }
    this.clearProgress();
    this.stderr.write(`${this.paint('33', 'warning:')} ${safe(message)}\n`);
  }

  private readonly started = Date.now();

  /** A one-line, self-overwriting status on a TTY; with --verbose, a timestamped line per stage instead. */
  progress(message: string): void {
    if (this.verbose && !this.quiet) {
      this.clearProgress();
      this.stderr.write(`[+${((Date.now() - this.started) / 1000).toFixed(2)}s] ${escapeText(message)}\n`);
      return;
    }
    if (!this.interactive || this.quiet) return;
    const cols = this.stderr.columns || 80; // a pty may report 0
    this.stderr.write(`\r\x1b[2K${escapeText(message).slice(0, Math.max(10, cols - 1))}`);
    this.progressShown = true;
  }

  clearProgress(): void {
    if (this.progressShown) {
      this.stderr.write('\r\x1b[2K');
      this.progressShown = false;
    }
  }

  /** The command's result: a JSON document with --json, else the human rendering. */
  result(data: Record<string, unknown>, human: () => string): void {
    this.clearProgress();
    if (this.json) {
      this.stdout.write(jsonDocument({ ok: true, ...data }) + '\n');
    } else if (!this.quiet) {
      const text = safe(human());
      if (text) this.stdout.write(text.endsWith('\n') ? text : text + '\n');
    }
  }

  /** A refusal that still carries a result (e.g. verify with per-package results). */
  failure(error: SealedError, data: Record<string, unknown> = {}): void {
    this.clearProgress();
    if (this.json) {
      let text: string;
      try {
        text = jsonDocument({ ok: false, ...data, error: error.toJSON() });
      } catch (e) {
        // Too large for one string: the refusal itself still goes out, without its details.
        if (!isSealedError(e, 'EXPORT_TOO_LARGE')) throw e;
        text = JSON.stringify({ ok: false, error: { code: error.code, message: error.message.slice(0, 4096), truncated: true } }, null, 2);
      }
      this.stdout.write(text + '\n');
    } else {
      this.stderr.write(formatError(error, this.paint.bind(this)) + '\n');
    }
  }

  paint(code: string, text: string): string {
    return this.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }

  bold(text: string): string {
    return this.paint('1', text);
  }
}

/**
 * One JSON document. A result too large for one JavaScript string (an import of millions of entries)
 * is EXPORT_TOO_LARGE rather than a RangeError with nothing on stdout.
 */
export function jsonDocument(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new SealedError('EXPORT_TOO_LARGE', 'The result is too large to print as one JSON document.', {
      hint: 'Split the export (sealed registry export FILE --package NAME) or run without --json.',
    });
  }
}

export function formatError(error: SealedError, paint: (code: string, text: string) => string = (_c, t) => t): string {
  const lines = [`${paint('31', 'error:')} ${safe(error.message)} [${error.code}]`];
  const d = error.details;
  if (d.expected !== undefined) lines.push(`  expected: ${escapeText(show(d.expected))}`);
  if (d.found !== undefined) lines.push(`  found:    ${escapeText(show(d.found))}`);
  if (d.hint) lines.push(`  ${safe(String(d.hint))}`);
  return lines.join('\n');
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A plain text table with aligned columns. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
