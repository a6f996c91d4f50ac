// The settings that make two independent builds of one sdist produce the same bytes where the backend
// allows it (https://reproducible-builds.org/specs/source-date-epoch/). Pure: the caller gives the facts
// (the sdist's newest member time, where the build really happens) and gets back data to apply: variables
// for the hook's environment, the umask for the hook runner, the permissions the source tree is normalized
// to, and the record body a rebuilder needs to repeat the build. Only normalizeTreeModes() touches disk.

import { lstat, readdir, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReproducibleBody } from '../chain/types.js';

/** Where a build looks like it happened: the real build folder is mapped here in compiled output. */
export const FIXED_BUILD_ROOT = '/build';
/** Files the backend creates get 0644/0755 whatever the builder's own umask. */
export const FIXED_UMASK = 0o022;
/** Used when the source gives no time (a source folder, or an archive without member times): the zip epoch. */
export const DEFAULT_SOURCE_DATE_EPOCH = 315532800;
/** Zip cannot store a time before 1980; backends clamp or fail below it, so Sealed clamps first. */
const ZIP_EPOCH = 315532800;

export interface ReproducibleInput {
  /** Newest member modification time of the sdist, in whole seconds since 1970; null when unknown. */
  newestMtime: number | null;
  /** The folder the build really runs in (its source tree and build environment below it). */
  realRoot: string;
  /** The user's own compiler flags, kept after Sealed's so they still win where they conflict. */
  env: NodeJS.ProcessEnv;
  /** Whether the source tree is Sealed's own extraction (its modes are normalized) or the user's folder. */
  treeModes: ReproducibleBody['tree_modes'];
}

export interface ReproducibleSettings {
  /** Added to the hook's environment (sorted by name). */
  env: Record<string, string>;
  umask: number;
  /** The fixed path the real build folder is mapped to. */
  buildPath: string;
  /** What goes in the build record, so that a rebuilder repeats exactly this. */
  record: ReproducibleBody;
}

/** Flags that gcc and clang read to rewrite `realRoot` in debug info, __FILE__ and profile paths. */
export function prefixMapFlags(realRoot: string, fixedRoot: string): string[] {
  return realRoot === fixedRoot ? [] : [`-ffile-prefix-map=${realRoot}=${fixedRoot}`];
}

export function sourceDateEpoch(newestMtime: number | null): number {
  if (newestMtime === null || !Number.isFinite(newestMtime)) return DEFAULT_SOURCE_DATE_EPOCH;
  return Math.max(ZIP_EPOCH, Math.trunc(newestMtime));
}

export function reproducibleSettings(input: ReproducibleInput): ReproducibleSettings {
  // A source folder has no sdist to take the time from; a SOURCE_DATE_EPOCH the user set (CI, distro builds) wins.
  const given = input.newestMtime === null && /^[0-9]{1,12}$/.test(input.env.SOURCE_DATE_EPOCH ?? '') ? Number(input.env.SOURCE_DATE_EPOCH) : null;
  const epoch = sourceDateEpoch(input.newestMtime ?? given);
  const flags = prefixMapFlags(input.realRoot, FIXED_BUILD_ROOT);
  const withFlags = (name: string): string => [...flags, ...(input.env[name] ? [input.env[name]!] : [])].join(' ');
  const fixed: Record<string, string> = {
    // Timestamps in zip members and generated files (wheel, flit-core, hatchling, setuptools honour it).
    SOURCE_DATE_EPOCH: String(epoch),
    // Set and dict order of str keys in anything a backend generates (entry points, RECORD order).
    PYTHONHASHSEED: '0',
    TZ: 'UTC',
    LC_ALL: 'C.UTF-8',
    LANG: 'C.UTF-8',
  };
  if (flags.length > 0) {
    fixed.CFLAGS = withFlags('CFLAGS');
    fixed.CXXFLAGS = withFlags('CXXFLAGS');
  }
  const env = Object.fromEntries(Object.entries(fixed).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    env,
    umask: FIXED_UMASK,
    buildPath: FIXED_BUILD_ROOT,
    record: {
      source_date_epoch: epoch,
      source_date_epoch_from: input.newestMtime !== null ? 'sdist-newest-member' : given !== null ? 'environment' : 'default',
      umask: `0${FIXED_UMASK.toString(8).padStart(3, '0')}`,
      pythonhashseed: '0',
      tz: 'UTC',
      locale: 'C.UTF-8',
      build_path: FIXED_BUILD_ROOT,
      file_prefix_map: flags.length > 0,
      tree_modes: input.treeModes,
    },
  };
}

/** The record a rebuilder reads back: the same choices, checked to be ones this version of Sealed makes. */
export function settingsFromRecord(record: ReproducibleBody, realRoot: string, env: NodeJS.ProcessEnv): ReproducibleSettings {
  const from = record.source_date_epoch_from;
  const newestMtime = from === 'sdist-newest-member' ? record.source_date_epoch : null;
  const given = from === 'environment' ? { ...env, SOURCE_DATE_EPOCH: String(record.source_date_epoch) } : { ...env, SOURCE_DATE_EPOCH: undefined };
  return reproducibleSettings({ newestMtime, realRoot, env: given, treeModes: record.tree_modes });
}

/**
 * Files 0644 (0755 when any execute bit is set), folders 0755: an extracted tree's modes otherwise follow
 * the extracting process's umask, and setuptools copies them into the wheel's member attributes.
 */
export async function normalizeTreeModes(root: string): Promise<void> {
  const st = await lstat(root);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    await chmod(root, 0o755);
    await Promise.all((await readdir(root)).map((name) => normalizeTreeModes(join(root, name))));
  } else if (st.isFile()) {
    await chmod(root, st.mode & 0o111 ? 0o755 : 0o644);
  }
}
