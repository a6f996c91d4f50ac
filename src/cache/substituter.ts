// The handle `sealed install` holds on its caches: light to make, so that naming --cache does not
// delay pip's start. The substituter itself (substitute.ts: the log, seal and SQLite code, and the AWS
// SDK for s3://) loads on start(), which the install calls once pip is at work.

import type { Registry } from '../registry/index.js';
import type { StoreOptions } from './store.js';
import type { CacheSubstituter, Substitution, Wanted } from './substitute.js';

export type { Substitution, Wanted } from './substitute.js';

export interface Substituter {
  readonly urls: readonly string[];
  /** Loads the substituter and opens the caches. */
  start(): void;
  /** Settles once the caches are open (or failed to open: substitute() says why). */
  ready(): Promise<void>;
  /** A name and version pip named while resolving: their listings are read and proven from now on. */
  hint(name: string, version: string): void;
  /** A hinted version whose index page lists this sdist: its seals' wheels are read from now on (CacheSubstituter.readAhead). */
  readAhead(registry: Registry, wanted: Wanted): void;
  /** Starts the checks of every distribution the install resolved (substitute() awaits each). */
  prefetch(registry: Registry, wanted: readonly Wanted[]): void;
  /** The cache's seals for one source, verified and imported (CacheSubstituter.substitute). */
  substitute(registry: Registry, name: string, version: string, sourceSha256: string): Promise<Substitution>;
  close(): Promise<void>;
}

export function openSubstituter(urls: readonly string[], home: string, opts: StoreOptions): Substituter {
  let loaded: Promise<CacheSubstituter> | null = null;
  const start = () => {
    loaded ??= import('./substitute.js').then(({ CacheSubstituter }) => {
      const s = new CacheSubstituter(urls, home, opts);
      s.start();
      return s;
    });
    loaded.catch(() => undefined); // substitute() says why
    return loaded;
  };
  return {
    urls,
    start: () => void start(),
    ready: () => start().then((s) => s.ready(), () => undefined),
    hint: (name, version) => void start().then((s) => s.hint(name, version), () => undefined),
    readAhead: (registry, wanted) => void start().then((s) => s.readAhead(registry, wanted), () => undefined),
    prefetch: (registry, wanted) => void start().then((s) => s.prefetch(registry, wanted), () => undefined),
    substitute: async (registry, name, version, sourceSha256) => (await start()).substitute(registry, name, version, sourceSha256),
    close: async () => {
      if (loaded) (await loaded.catch(() => null))?.close();
    },
  };
}
