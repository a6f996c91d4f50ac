// Where a passphrase or a PIN comes from: a file named in the environment (CI), the environment itself,
// or a person at a terminal (typed without echo). Never a command-line argument, never logged.

import { readFileSync, statSync } from 'node:fs';
import { SealedError } from '../errors.js';

export interface Prompter {
  /** Whether a person can be asked: stdin and stderr are both a terminal. */
  readonly interactive: boolean;
  /** Asks without echoing what is typed. */
  ask(question: string): Promise<string>;
  /** A notice for the person at the terminal (nothing when not interactive). */
  say(message: string): void;
}

const MAX_SECRET = 4096;

/** Reads one secret from a file: its first line, without the line ending. Refused when others can read it. */
export function readSecretFile(path: string, what: string): string {
  let text: string;
  try {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) {
      throw new SealedError('KEY_PERMISSIONS', `The ${what} file ${path} is readable by others (mode ${mode.toString(8).padStart(4, '0')}); refusing to use it.`, {
        hint: `Run: chmod 600 ${path}`,
        found: mode.toString(8).padStart(4, '0'),
        expected: '0600',
      });
    }
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof SealedError) throw e;
    throw new SealedError('KEY_PASSPHRASE_MISSING', `Cannot read the ${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}.`, {
      hint: `Create it (chmod 600) holding the ${what} on one line.`,
    });
  }
  if (text.length > MAX_SECRET) throw new SealedError('MALFORMED_INPUT', `The ${what} file ${path} is larger than ${MAX_SECRET} bytes; it should hold one line.`);
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  if (line === '') throw new SealedError('KEY_PASSPHRASE_MISSING', `The ${what} file ${path} is empty.`, { hint: `Write the ${what} on its first line.` });
  return line;
}

const WAYS = 'Set SEALED_KEY_PASSPHRASE_FILE to a file (chmod 600) holding it, set SEALED_KEY_PASSPHRASE (for CI), or run Sealed at a terminal to be asked.';

/** The passphrase of an existing encrypted key file. */
export async function passphraseFor(path: string, env: NodeJS.ProcessEnv, prompter: Prompter): Promise<string> {
  const fromEnv = passphraseFromEnv(env);
  if (fromEnv !== null) return fromEnv;
  if (prompter.interactive) return prompter.ask(`Passphrase for ${path}: `);
  throw new SealedError('KEY_PASSPHRASE_MISSING', `The key file ${path} is encrypted and no passphrase was given (there is no terminal to ask at).`, { hint: WAYS });
}

/** A passphrase for a new encrypted key file: typed twice at a terminal. */
export async function newPassphrase(path: string, env: NodeJS.ProcessEnv, prompter: Prompter): Promise<string> {
  const fromEnv = passphraseFromEnv(env);
  if (fromEnv !== null) return fromEnv;
  if (!prompter.interactive) {
    throw new SealedError('KEY_PASSPHRASE_MISSING', `A passphrase is needed to encrypt ${path} and there is no terminal to ask at.`, { hint: WAYS });
  }
  const first = await prompter.ask(`New passphrase for ${path}: `);
  if (first === '') throw new SealedError('USAGE', 'An empty passphrase would not protect the key; nothing was written.');
  const again = await prompter.ask('The same passphrase again: ');
  if (again !== first) throw new SealedError('USAGE', 'The two passphrases differ; nothing was written.');
  return first;
}

function passphraseFromEnv(env: NodeJS.ProcessEnv): string | null {
  const file = env.SEALED_KEY_PASSPHRASE_FILE;
  if (file !== undefined && file !== '') return readSecretFile(file, 'passphrase');
  const value = env.SEALED_KEY_PASSPHRASE;
  if (value !== undefined && value !== '') return value;
  return null;
}

/** The prompter of this process's terminal. */
export function terminalPrompter(stdin: NodeJS.ReadStream = process.stdin, stderr: NodeJS.WriteStream = process.stderr): Prompter {
  const interactive = Boolean(stdin.isTTY && stderr.isTTY);
  return {
    interactive,
    ask: (question) => askHidden(question, stdin, stderr),
    say: (message) => {
      if (interactive) stderr.write(message + '\n');
    },
  };
}

function askHidden(question: string, stdin: NodeJS.ReadStream, stderr: NodeJS.WriteStream): Promise<string> {
  return new Promise((resolve, reject) => {
    stderr.write(question);
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    let typed = '';
    const finish = (err: SealedError | null) => {
      stdin.setRawMode(wasRaw);
      stdin.off('data', onData);
      stdin.pause();
      stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish(null);
        if (ch === '\u0003' || ch === '\u0004') return finish(new SealedError('USAGE', 'Cancelled; nothing was done.'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else if (typed.length < MAX_SECRET) typed += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** The variables that unlock or locate the signing key; the untrusted build backend never sees them. */
export const KEY_SECRET_VARIABLES = ['SEALED_KEY_PASSPHRASE', 'SEALED_KEY_PASSPHRASE_FILE', 'SEALED_KEY'] as const;

/** A copy of `env` without the signing key's variables, for everything the build runs. */
export function withoutKeySecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of KEY_SECRET_VARIABLES) delete out[name];
  return out;
}
