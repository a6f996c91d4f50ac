// `sealed cache init | push | verify URL`: thin commands over src/cache.
import type { Command, Context, ParsedArgs } from '../command.js';
import { stringOption, boolOption } from '../command.js';
import { SealedError } from '../../errors.js';

const s3Option = { 's3-endpoint': { type: 'string' } } as const;

async function store(ctx: Context, args: ParsedArgs) {
  const { openStore } = await import('../../cache/index.js');
  const endpoint = stringOption(args, 's3-endpoint');
  return openStore(args.positionals[0]!, { env: ctx.env, ...(endpoint !== undefined ? { s3Endpoint: endpoint } : {}) });
}

export const init: Command = {
  name: 'cache init',
  usage: 'cache init URL [--s3-endpoint URL] [--json]   (URL: s3://bucket/prefix or file:///path)',
  summary: 'Prepares a shared seal cache (creates the folder or bucket and the cache marker); running it again changes nothing. A signer\'s log starts with its first push.',
  options: { ...s3Option },
  minPositionals: 1,
  maxPositionals: 1,
  async run(ctx, args) {
    const { initCache } = await import('../../cache/index.js');
    const r = await initCache(await store(ctx, args));
    ctx.out.result({ url: r.url, id: r.id, created: r.created }, () => `${r.created ? 'initialized' : 'already initialized'}: ${r.url} (cache id ${r.id})`);
  },
};

export const push: Command = {
  name: 'cache push',
  usage: 'cache push URL [name[==version]...] [--s3-endpoint URL] [--json]',
  summary: 'Publishes this home\'s seals (all, or those named) with their wheels to the cache and appends them to this signer\'s transparency log; objects already there are skipped.',
  options: { ...s3Option },
  minPositionals: 1,
  maxPositionals: 100_000,
  async run(ctx, args) {
    const [{ pushSeals }, { Registry }, { openSigner }, { normalizeName }] = await Promise.all([
      import('../../cache/index.js'),
      import('../../registry/index.js'),
      import('../../signer/index.js'),
      import('../../core/names.js'),
    ]);
    const target = await store(ctx, args);
    // The checkpoint is signed by the configured signer (file, encrypted file or token), as seals are.
    const signer = await openSigner({ home: ctx.home(), env: ctx.env, cwd: ctx.cwd });
    const reg = Registry.open(ctx.home());
    let items;
    try {
      const wanted = args.positionals.slice(1).map((p) => {
        const [name, version, ...rest] = p.split('==');
        if (!name || rest.length > 0 || version === '') throw new SealedError('USAGE', `${JSON.stringify(p)} is not name or name==version.`);
        return { name: normalizeName(name.trim()), version: version?.trim() };
      });
      const stored = wanted.length === 0 ? reg.allSealRows().map((r) => reg.sealByChainHash(r.chainHash, r.fingerprint)!).filter(Boolean) : wanted.flatMap((w) => reg.sealsFor(w.name, w.version));
      if (wanted.length > 0 && stored.length === 0) throw new SealedError('NOT_FOUND', `The registry holds no seal of ${args.positionals.slice(1).join(', ')}.`);
      items = stored.map((s) => ({ seal: s.seal, summary: s.summary, wheelPath: reg.wheelPath(s.summary.artifact.sha256, s.summary.artifact.filename) }));
    } finally {
      reg.close();
    }
    const r = await pushSeals(target, items, { publicKey: signer.publicKey(), sign: (m) => signer.sign(m) }, {
      onProgress: (done, total) => ctx.out.progress(`uploading: ${done}/${total}`),
    }).finally(() => signer.close());
    ctx.out.clearProgress();
    if (r.notOurs > 0) ctx.out.warn(`${r.notOurs} seal(s) in the registry are by other keys: only their signers can publish them to their own logs.`);
    for (const m of r.missingWheel) ctx.out.warn(`${m.name} ${m.version}: the stored wheel is gone, so its seal was not pushed (rebuild it with sealed build).`);
    ctx.out.result(
      { url: r.url, log: r.log, added: r.added, already_present: r.alreadyPresent, not_ours: r.notOurs, missing_wheel: r.missingWheel, checkpoint: r.checkpoint },
      () =>
        [
          ...r.added.map((a) => `  + ${a.name} ${a.version} (entry ${a.index})`),
          `${r.added.length} seal(s) added, ${r.alreadyPresent} already present, to log ${r.log} in ${r.url}`,
          ...(r.checkpoint ? ['new checkpoint:', ...r.checkpoint.note.trimEnd().split('\n').map((l) => `  ${l}`)] : []),
        ].join('\n'),
    );
  },
};

export const verify: Command = {
  name: 'cache verify',
  usage: 'cache verify URL [--log FINGERPRINT]... [--skip-wheels] [--s3-endpoint URL] [--json]',
  summary:
    'Audits a cache: each log\'s checkpoint signature, its consistency with the checkpoint this home saw last (pinned on first use), every entry\'s inclusion, every seal and every wheel hash. A rewritten, truncated or forked log fails with LOG_INCONSISTENT.',
  options: { ...s3Option, log: { type: 'string', multiple: true }, 'skip-wheels': { type: 'boolean' } },
  minPositionals: 1,
  maxPositionals: 1,
  async run(ctx, args) {
    const { auditCache, CheckpointPins } = await import('../../cache/index.js');
    const { parseKeyReference } = await import('../../seal/index.js');
    const only = ((args.values.log as string[] | undefined) ?? []).map((t) => parseKeyReference(t, { allowBare: true }).fingerprint.replace(/^sha256:/, ''));
    const target = await store(ctx, args);
    const pins = CheckpointPins.open(ctx.home());
    try {
      const logs = await auditCache(target, pins, { ...(only.length > 0 ? { only } : {}), skipWheels: boolOption(args, 'skip-wheels'), onProgress: (t) => ctx.out.progress(t) });
      ctx.out.clearProgress();
      ctx.out.result({ url: target.url, ok: true, logs }, () =>
        [
          ...logs.map((l) => `  ${l.fingerprint}: ${l.size} entries, root ${l.root}${l.previous ? ` (extends the size-${l.previous.size} checkpoint seen before)` : ' (first seen: pinned)'}; ${l.seals} seals and ${l.wheels} wheels checked`),
          `${target.url}: ${logs.length} log(s) verified`,
        ].join('\n'),
      );
    } finally {
      pins.close();
    }
  },
};
