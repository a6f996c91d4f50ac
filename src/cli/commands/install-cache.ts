// The cache side of `sealed install`: --cache URL (repeatable; else SEALED_CACHE, space-separated)
// as substituters, and --push of what this install built. src/cache loads only once pip is at work.
import type { Context, ParsedArgs } from '../command.js';
import { boolOption, stringOption } from '../command.js';
import { SealedError } from '../../errors.js';
import { openSubstituter, type Substituter } from '../../cache/substituter.js';
import type { PackageOutcome } from '../../install/index.js';

export interface InstallCache {
  substituter: Substituter | null;
  push: ((outcomes: PackageOutcome[]) => Promise<void>) | null;
}

export async function cacheFor(ctx: Context, args: ParsedArgs, home: string): Promise<InstallCache> {
  const given = (args.values.cache as string[] | undefined) ?? [];
  const urls = given.length > 0 ? given : (ctx.env.SEALED_CACHE ?? '').split(/\s+/).filter((u) => u !== '');
  const wantPush = boolOption(args, 'push');
  if (urls.length === 0) {
    if (wantPush) throw new SealedError('USAGE', '--push publishes to the caches named with --cache (or SEALED_CACHE); none is named.');
    return { substituter: null, push: null };
  }
  const endpoint = stringOption(args, 's3-endpoint');
  const storeOptions = { env: ctx.env, ...(endpoint !== undefined ? { s3Endpoint: endpoint } : {}) };
  const substituter = openSubstituter(urls, home, storeOptions);
  if (!wantPush) return { substituter, push: null };
  return {
    substituter,
    push: async (outcomes) => {
      const built = outcomes.flatMap((o) => (o.status === 'accepted' && o.action === 'build' ? [o] : []));
      if (built.length === 0) return;
      const [{ openStore, pushSeals }, { Registry }, { openSigner }] = await Promise.all([
        import('../../cache/index.js'),
        import('../../registry/index.js'),
        import('../../signer/index.js'),
      ]);
      const reg = Registry.open(home);
      let items;
      try {
        items = built.map((o) => {
          const stored = reg.sealByChainHash(o.summary.chainHash, o.summary.fingerprint)!;
          return { seal: stored.seal, summary: stored.summary, wheelPath: reg.wheelPath(stored.summary.artifact.sha256, stored.summary.artifact.filename) };
        });
      } finally {
        reg.close();
      }
      // The checkpoint is signed by the configured signer (file, encrypted file or token), as seals are.
      const signer = await openSigner({ home, env: ctx.env, cwd: ctx.cwd });
      const checkpointSigner = { publicKey: signer.publicKey(), sign: (m: Uint8Array) => signer.sign(m) };
      try {
        for (const url of urls) {
          const r = await pushSeals(await openStore(url, storeOptions), items, checkpointSigner);
          ctx.out.info(`pushed ${r.added.length} seal(s) to ${url}${r.checkpoint ? ` (log size ${r.checkpoint.size})` : ''}`);
        }
      } finally {
        signer.close();
      }
    },
  };
}
