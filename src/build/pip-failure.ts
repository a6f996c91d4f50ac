// What went wrong when pip could not install something, read from pip's own output (pure): which
// requirement failed, the one line of the log that says why, and what to do about it. pip's wording
// is matched loosely; when nothing matches, its last ERROR line is quoted as it is.

import { SealedError } from '../errors.js';

export type PipFailureKind = 'not-found' | 'unreachable' | 'conflict' | 'build-failed' | 'python-version' | 'other';

export interface PipFailure {
  kind: PipFailureKind;
  /** The requirement pip names as the one that failed, when it names one. */
  requirement: string | null;
  /** The line of pip's output that matters, trimmed. */
  line: string | null;
}

const PATTERNS: { kind: PipFailureKind; re: RegExp }[] = [
  { kind: 'not-found', re: /ERROR: Could not find a version that satisfies the requirement (\S+)/ },
  { kind: 'not-found', re: /ERROR: No matching distribution found for (\S+)/ },
  { kind: 'conflict', re: /ERROR: Cannot install (.+?) because these package versions have conflicting dependencies/ },
  { kind: 'conflict', re: /ERROR: ResolutionImpossible/ },
  { kind: 'build-failed', re: /ERROR: Failed (?:to )?build(?:ing wheel for)? (\S+)/ },
  { kind: 'build-failed', re: /ERROR: Failed to build installable wheels for some pyproject\.toml based projects \((.+?)\)/ },
  { kind: 'python-version', re: /ERROR: Package '([^']+)' requires a different Python/ },
];

const UNREACHABLE = /NewConnectionError|Connection refused|Name or service not known|Temporary failure in name resolution|Network is unreachable|timed out|ConnectTimeoutError|ProxyError|SSLError|CERTIFICATE_VERIFY_FAILED/;

export function readPipFailure(output: string): PipFailure {
  const lines = output.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  for (const { kind, re } of PATTERNS) {
    for (const line of lines) {
      const m = re.exec(line);
      if (m) {
        const failed = m[1] ?? null;
        // pip's "not found" for an unreachable index: the retries say why.
        const net = kind === 'not-found' ? lines.find((l) => UNREACHABLE.test(l)) : undefined;
        if (net) return { kind: 'unreachable', requirement: failed, line: net };
        return { kind, requirement: failed, line };
      }
    }
  }
  const net = lines.find((l) => UNREACHABLE.test(l));
  if (net) return { kind: 'unreachable', requirement: null, line: net };
  const error = [...lines].reverse().find((l) => /^ERROR:|^error:|Error:/.test(l)) ?? lines[lines.length - 1] ?? null;
  return { kind: 'other', requirement: null, line: error };
}

/** The sentence that says what failed and the hint that says what to do, for a pip install of `what` from `indexUrl`. */
export function explainPipFailure(f: PipFailure, what: string, indexUrl: string, logPath: string | null): { message: string; hint: string } {
  const from = `from ${indexUrl}`;
  const see = logPath ? ` The full log is ${logPath}.` : '';
  const isPyPI = /^https:\/\/pypi\.org\/simple\/?$/.test(indexUrl);
  switch (f.kind) {
    case 'not-found':
      return {
        message: `pip found no version of ${f.requirement ?? 'a requirement'} (one of the ${what}) ${from}.`,
        hint: isPyPI
          ? `Check the name and version of ${f.requirement ?? 'the requirement'}.${see}`
          : `A private index must carry the build tools that sdists name in [build-system] requires (setuptools, wheel, flit_core, hatchling, ...), not only the packages themselves: mirror them (see docs/requirements.md, "A private index").${see}`,
      };
    case 'unreachable':
      return {
        message: `pip could not reach ${indexUrl} to install the ${what}${f.requirement ? ` (${f.requirement})` : ''}.`,
        hint: `Check the URL and the network (HTTPS_PROXY behind a proxy).${see}`,
      };
    case 'conflict':
      return { message: `pip found no set of versions that satisfies the ${what}${f.requirement ? ` (${f.requirement})` : ''}.`, hint: `The requirements conflict with each other.${see}` };
    case 'build-failed':
      return {
        message: `pip could not build ${f.requirement ?? 'a requirement'} (needed for the ${what}).`,
        hint: `A build tool that comes only as an sdist must be built first; see the log.${see}`,
      };
    case 'python-version':
      return { message: `${f.requirement ?? 'A requirement'} (one of the ${what}) does not support this Python.`, hint: `Pick another --python or another version.${see}` };
    case 'other':
      return { message: `pip could not install the ${what} ${from}.`, hint: `See the quoted line and the log.${see}` };
  }
}

/**
 * BUILD_ENV_FAILED for a pip install into the build environment that failed, naming the requirement and
 * quoting pip. `wheelsOnly`: pip was told to take wheels only, so "no version found" may mean "no wheel".
 */
export function buildEnvFailure(o: { what: string; reqs: string[]; indexUrl: string; output: string; logPath: string; tail: string; wheelsOnly?: boolean }): SealedError {
  const f = readPipFailure(o.output);
  const explained = explainPipFailure(f, o.what, o.indexUrl, o.logPath);
  const { message, hint } = o.wheelsOnly && f.kind === 'not-found' ? noWheelExplained(f, o.what, o.indexUrl, explained.hint) : explained;
  return new SealedError('BUILD_ENV_FAILED', `${message}${f.line ? `\npip said: ${f.line}` : ''}`, {
    failed_requirement: f.requirement,
    requirements: o.reqs,
    quote: f.line,
    tail: o.tail,
    log: o.logPath,
    hint,
  });
}

function noWheelExplained(f: PipFailure, what: string, indexUrl: string, otherwise: string): { message: string; hint: string } {
  const name = f.requirement ?? 'a requirement';
  return {
    message: `pip found no wheel of ${name} (one of the ${what}) on ${indexUrl}. While the build is sandboxed, Sealed installs build tools from wheels only: building one from its sdist would run that sdist's code outside the sandbox, where Sealed's key is.`,
    hint: `If ${name} is published only as an sdist, build its wheel (sealed build) and publish it on your index, or build with --sandbox=none (the seal then says so). If it is not published at all: ${otherwise}`,
  };
}
