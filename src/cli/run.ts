// One command line, start to finish: parse global options, run one command, map any error to its exit
// code. The process entry (main.ts) runs it with the process's own streams; a Sealed process started
// ahead of a build (cli/serve.ts) runs the one command line it is sent with streams over its socket.

import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Output } from './output.js';
import { makeContext, type Command, type Io, type ParsedArgs } from './command.js';
import { COMMANDS } from './registry.js';
import { optionErrorMessage } from './suggest.js';
import { SealedError, toSealedError } from '../errors.js';
import { packageRoot } from '../util/paths.js';

const GLOBAL_FLAGS = new Set(['--json', '--quiet', '-q', '--verbose', '-v', '--help', '-h', '--version', '-V']);

interface Globals {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  help: boolean;
  version: boolean;
  home: string | undefined;
  /** --key-uri: the signer for this command line, as SEALED_KEY would name it. */
  keyUri: string | undefined;
  rest: string[];
}

/** Global options may stand anywhere on the line; they are taken out before the command parses its own. */
function splitGlobals(argv: string[]): Globals {
  const g: Globals = { json: false, quiet: false, verbose: false, help: false, version: false, home: undefined, keyUri: undefined, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      g.rest.push(...argv.slice(i));
      break;
    }
    if (a === '--home') {
      const v = argv[++i];
      if (v === undefined) throw new SealedError('USAGE', '--home needs a folder.');
      g.home = v;
    } else if (a.startsWith('--home=')) g.home = a.slice(7);
    else if (a === '--key-uri' || a.startsWith('--key-uri=')) g.keyUri = a === '--key-uri' ? keyUriValue(argv[++i]) : a.slice('--key-uri='.length);
    else if (!GLOBAL_FLAGS.has(a)) g.rest.push(a);
    else if (a === '--json') g.json = true;
    else if (a === '--quiet' || a === '-q') g.quiet = true;
    else if (a === '--verbose' || a === '-v') g.verbose = true;
    else if (a === '--help' || a === '-h') g.help = true;
    else g.version = true;
  }
  return g;
}

function keyUriValue(v: string | undefined): string {
  if (v === undefined) throw new SealedError('USAGE', '--key-uri needs a key URI (file:PATH or pkcs11:...).');
  return v;
}

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'sealed: source-to-binary provenance for Python packages',
    '',
    'usage: sealed <command> [options]',
    '',
    'commands:',
    ...COMMANDS.filter((c) => c.name !== 'backend-build' && c.name !== 'backend-hook').map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'global options: --home DIR, --key-uri URI (the signing key; same as SEALED_KEY), --json, --quiet, --verbose, --version, --help',
    'exit codes: 0 ok, 1 refused (verification or policy), 2 usage or malformed input, 3 operational failure',
  ].join('\n');
}

function commandHelp(cmd: Command): string {
  return [`usage: sealed ${cmd.usage}`, '', cmd.summary].join('\n');
}

/** Runs one command line with these streams; returns the exit code. Never throws. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  let out = new Output({ json: argv.includes('--json'), quiet: false, verbose: false }, io.stdout, io.stderr);
  try {
    const g = splitGlobals(argv);
    out = new Output({ json: g.json, quiet: g.quiet, verbose: g.verbose }, io.stdout, io.stderr);
    if (g.version) {
      out.result({ version: version() }, () => version());
      return 0;
    }
    const [first, second] = g.rest;
    const entry =
      COMMANDS.find((c) => second !== undefined && c.name === `${first} ${second}`) ?? COMMANDS.find((c) => c.name === first);
    if (!entry) {
      if (first === undefined || first === 'help') {
        io.stdout.write(overview() + '\n');
        return first === undefined && !g.help ? 2 : 0;
      }
      const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `)).map((c) => c.name);
      throw new SealedError('USAGE', group.length ? `"sealed ${first}" needs a subcommand: ${group.join(', ')}.` : `Unknown command "${first}". Run \`sealed --help\`.`);
    }
    const cmd = await entry.load();
    if (g.help) {
      io.stdout.write(commandHelp(cmd) + '\n');
      return 0;
    }
    const words = entry.name.split(' ').length;
    const args = parseCommandArgs(cmd, g.rest.slice(words));
    const ctx = makeContext(out, g.home, io);
    if (g.keyUri !== undefined) ctx.env = { ...ctx.env, SEALED_KEY: g.keyUri };
    return (await cmd.run(ctx, args)) ?? 0;
  } catch (e) {
    const err = toSealedError(e);
    out.failure(err);
    if (err.code === 'INTERNAL' && process.env.SEALED_DEBUG) io.stderr.write(String((e as Error).stack) + '\n');
    return err.exitCode;
  }
}

function parseCommandArgs(cmd: Command, rest: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: cmd.options, allowPositionals: true, strict: true });
  } catch (e) {
    const words = optionErrorMessage(e, cmd.name, cmd.options, ['json', 'quiet', 'verbose', 'help', 'version', 'home']);
    throw new SealedError('USAGE', `${words ?? (e as Error).message}\nusage: sealed ${cmd.usage}`);
  }
  const n = parsed.positionals.length;
  if (n < (cmd.minPositionals ?? 0) || n > (cmd.maxPositionals ?? 0)) {
    throw new SealedError('USAGE', `Wrong number of arguments.\nusage: sealed ${cmd.usage}`);
  }
  return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
}
