// What `sealed install` takes and gives back, shared by its entry (install-packages.ts), its run
// (run-install.ts) and the CLI command. Types only.

import type { SealedError } from '../errors.js';
import type { Roster } from '../policy/index.js';
import type { SealSummary } from '../seal/index.js';
import type { TpmConfig } from '../tpm/index.js';
import type { SandboxKind } from '../sandbox/index.js';
import type { Substituter } from '../cache/substituter.js';
import type { ResolutionHints } from './pip-hints.js';
import type { WarmPip } from '../build/warm-pip.js';
import type { ResolvedSource } from '../requirements/index.js';
import type { StageEvent } from './stages.js';
import type { Verdict } from '../trust/index.js';
import type { PendingInstall } from './pip-install.js';
import type { PythonFacts } from '../env/python.js';
import type { Resolution } from './pip-resolve.js';

export interface InstallOptions {
  home: string;
  requirements: string[];
  indexUrl: string;
  python: string;
  noDeps: boolean;
  dryRun: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  tpm: TpmConfig;
  /** `--cache URL`: seals and wheels a shared cache can supply instead of a build (src/cache). */
  cache?: Substituter;
  /** pip's own arguments for the resolution: -r FILE, -c FILE, --upgrade. */
  pipArgs?: string[];
  /** The files those arguments make pip read, shown read-only to the sandboxed resolution. */
  pipFiles?: string[];
  /** Hash-checking mode and locks: throws for a resolved source the requirements do not allow. */
  checkSources?: (dists: ResolvedSource[]) => void;
  /** One event per package stage (fetched, verified, built, sealed, reused, installed). */
  stage?: (event: StageEvent) => void;
  /** Where backend hooks run (--sandbox; default SEALED_SANDBOX, else bwrap). */
  sandboxMode?: SandboxKind;
  /** Hosts an index page may redirect to (`--allow-redirect`); any other origin is INDEX_REDIRECT. */
  allowRedirect?: string[];
  policy: { minSignatures?: number; trustedKeys?: Roster };
  progress: (message: string) => void;
  warn: (message: string) => void;
}

export type Action = 'build' | 'reuse' | 'substitute';

/** The result for one resolved distribution. */
export type PackageOutcome =
  /** A dry run: what would be done. */
  | { status: 'planned'; name: string; version: string; action: Action; summary: SealSummary | null }
  /** Not started: another package had already failed or been refused. */
  | { status: 'skipped'; name: string; version: string }
  /** Fetching, building or storing failed. */
  | { status: 'failed'; name: string; version: string; error: SealedError; log: string | null }
  /** Sealed (built or reused); the verdict accepted its own seal. */
  | { status: 'accepted'; name: string; version: string; action: Action; summary: SealSummary; wheel: string; verdict: Verdict & { accepted: true }; log: string | null }
  /** Sealed (built or reused); the verdict refused it. */
  | { status: 'refused'; name: string; version: string; action: Action; summary: SealSummary; wheel: string; verdict: Verdict & { accepted: false }; log: string | null };

export interface InstallResult {
  prefix: string;
  python: string;
  outcomes: PackageOutcome[];
  alreadySatisfied: string[];
  /** Requested, already installed there by Sealed. */
  alreadySealed: { name: string; version: string }[];
  installed: boolean;
  error: SealedError | null;
}

/** What install-packages.ts has started before the rest of Sealed loads. */
export interface EarlyStart {
  workDir: string;
  /** The requirements, local sdist paths made absolute. */
  requirements: string[];
  python: Promise<PythonFacts>;
  firstResolution: Promise<Resolution>;
  /** Waiting for the wheel list; null on a dry run. */
  installer: PendingInstall | null;
  tags: Promise<Set<string> | null>;
  /** A build environment's pip, importing itself since the start, for the first build; null when none was started. */
  spareWarmPip: WarmPip | null;
  /** What the first resolution's pip names while it resolves (pip-hints.ts). */
  hints: ResolutionHints;
}
