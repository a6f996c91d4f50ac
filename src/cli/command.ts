import type { ParseArgsConfig } from 'node:util';
import type { Output } from './output.js';
import { resolveHome } from '../util/home.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** The streams one command line runs with: the process's own, or a served build's (cli/serve.ts). */
export interface Io {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export interface Context {
  out: Output;
  io: Io;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** --home or SEALED_HOME or ~/.sealed; created (0700) on first call. */
  home(): string;
  homeOption: string | undefined;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export interface Command {
  /** One or two words: "build", "key show". */
  name: string;
  usage: string;
  summary: string;
  options: OptionSpec;
  /** Whether positionals are allowed, and how many at least. */
  minPositionals?: number;
  maxPositionals?: number;
  run(ctx: Context, args: ParsedArgs): Promise<number | void>;
}

export function makeContext(out: Output, homeOption: string | undefined, io: Io): Context {
  let home: string | undefined;
  return {
    out,
    io,
    env: process.env,
    cwd: process.cwd(),
    homeOption,
    home: () => (home ??= resolveHome(homeOption)),
  };
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function boolOption(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/** A repeatable option's values (none when absent). */
export function listOption(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}
