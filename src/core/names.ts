// Python packaging names: PEP 503 normalization and the wheel/sdist filename conventions.

export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/**
 * The project a command-line requirement names ("rich[jupyter]>=13" is rich), normalized; null for a
 * path or a local sdist.
 */
export function requirementProjectName(requirement: string): string | null {
  if (requirement.includes('/') || /\.(tar\.gz|zip|whl)$/i.test(requirement)) return null;
  const m = /^[A-Za-z0-9][A-Za-z0-9._-]*/.exec(requirement.trim());
  return m ? normalizeName(m[0]) : null;
}

const NAME_RE = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;

export function isValidProjectName(name: string): boolean {
  return NAME_RE.test(name);
}

export interface WheelName {
  name: string; // normalized
  version: string;
  build: string | null;
  tags: { python: string; abi: string; platform: string };
}

/** `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl` (PEP 427). */
export function parseWheelFilename(filename: string): WheelName | null {
  if (!filename.endsWith('.whl')) return null;
  const parts = filename.slice(0, -4).split('-');
  if (parts.length !== 5 && parts.length !== 6) return null;
  const [name, version] = parts as [string, string];
  const build = parts.length === 6 ? (parts[2] as string) : null;
  const [python, abi, platform] = parts.slice(-3) as [string, string, string];
  if (!name || !version) return null;
  return { name: normalizeName(name), version, build, tags: { python, abi, platform } };
}

export const SDIST_EXTENSIONS = ['.tar.gz', '.zip'] as const;

/** Splits `{name}-{version}.tar.gz` where the name itself may contain dashes (legacy sdists). */
export function parseSdistFilename(filename: string, expectedName?: string): { name: string; version: string } | null {
  const ext = SDIST_EXTENSIONS.find((e) => filename.toLowerCase().endsWith(e));
  if (!ext) return null;
  const stem = filename.slice(0, -ext.length);
  if (expectedName) {
    const want = normalizeName(expectedName);
    for (let i = stem.indexOf('-'); i !== -1; i = stem.indexOf('-', i + 1)) {
      if (normalizeName(stem.slice(0, i)) === want) return { name: want, version: stem.slice(i + 1) };
    }
    return null;
  }
  const i = stem.lastIndexOf('-');
  if (i <= 0) return null;
  return { name: normalizeName(stem.slice(0, i)), version: stem.slice(i + 1) };
}
