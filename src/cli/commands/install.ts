import type { Command } from '../command.js';
import { boolOption, stringOption } from '../command.js';
import { table } from '../output.js';
import { SealedError } from '../../errors.js';
import { resolveIndexConfig } from '../../index/index.js';
import { resolvePythonCommand } from '../../env/index.js';
import { tpmConfigFromEnv } from '../../tpm/index.js';
import { readTrustedKeysFile } from '../../policy/index.js';
import { installPackages, type PackageOutcome } from '../../install/index.js';

export const command: Command = {
  name: 'install',
  usage: 'install <req>... [--index-url U] [--python P] [--no-deps] [--dry-run] [--trusted-keys F] [--min-signatures N] [--cache URL]... [--push] [--s3-endpoint URL] [--json]',
  summary:
    'Resolves with pip, builds every resolved distribution from its verified sdist (or reuses a valid stored seal and wheel), seals it, checks pins and policy, then installs exactly the sealed wheels with pip (--no-index --no-deps, hashes required). Any refusal installs nothing.',
  options: {
    'index-url': { type: 'string' },
    python: { type: 'string' },
    'no-deps': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    'trusted-keys': { type: 'string' },
    'min-signatures': { type: 'string' },
    cache: { type: 'string', multiple: true },
    push: { type: 'boolean' },
    's3-endpoint': { type: 'string' },
  },
  minPositionals: 1,
  maxPositionals: 1000,
  async run(ctx, args) {
    const out = ctx.out;
    const minRaw = stringOption(args, 'min-signatures');
    const min = minRaw === undefined ? undefined : Number(minRaw);
    if (min !== undefined && (!Number.isInteger(min) || min < 1)) throw new SealedError('USAGE', `--min-signatures takes a whole number of at least 1, not "${minRaw}".`);
    const rosterPath = stringOption(args, 'trusted-keys');
    const trustedKeys = rosterPath ? readTrustedKeysFile(rosterPath, ctx) : undefined;
    const home = ctx.home();
    const index = resolveIndexConfig(stringOption(args, 'index-url'), ctx.env, (m) => out.warn(m, 'extra-index'));
    const python = resolvePythonCommand(stringOption(args, 'python'), ctx.env);
    const dryRun = boolOption(args, 'dry-run');
    const cache = await (await import('./install-cache.js')).cacheFor(ctx, args, home);

    const result = await installPackages({
      home,
      requirements: args.positionals,
      indexUrl: index.url,
      python,
      noDeps: boolOption(args, 'no-deps'),
      dryRun,
      env: ctx.env,
      cwd: ctx.cwd,
      tpm: tpmConfigFromEnv(ctx.env),
      policy: { ...(min !== undefined ? { minSignatures: min } : {}), ...(trustedKeys ? { trustedKeys } : {}) },
      progress: (m) => out.progress(m),
      warn: (m) => out.warn(m, m),
      ...(cache.substituter ? { cache: cache.substituter } : {}),
    }).finally(() => cache.substituter?.close());
    if (cache.push && result.installed) await cache.push(result.outcomes);

    const data = {
      prefix: result.prefix,
      python: result.python,
      index_url: index.url,
      dry_run: dryRun,
      installed: result.installed,
      packages: result.outcomes.map(describe),
      not_sealed_by_sealed: result.alreadySatisfied,
    };
    const human = () => {
      const rows = result.outcomes.map((p) => [p.name, p.version, p.action === 'reuse' ? 'reused seal' : p.action === 'substitute' ? 'from cache' : 'built', statusText(p), p.summary ? p.summary.fingerprint.slice(0, 19) + '…' : '-']);
      const lines = [rows.length ? table(['package', 'version', 'action', 'status', 'signer'], rows) : 'nothing to install'];
      if (result.alreadySatisfied.length) lines.push(`already installed, not sealed by Sealed: ${result.alreadySatisfied.join(', ')}`);
      if (dryRun) lines.push('dry run: nothing was built or installed');
      else if (result.installed) lines.push(`installed ${result.outcomes.length} sealed wheel(s) into ${result.prefix}`);
      else if (result.error) lines.push(`nothing was installed into ${result.prefix}`);
      return lines.join('\n');
    };
    if (result.error) {
      if (!out.json) out.info(human());
      const failed = result.outcomes.find((p) => p.error);
      const err = result.error;
      if (failed?.log && !err.details.log) err.details.log = failed.log;
      out.failure(err, out.json ? data : {});
      return err.exitCode;
    }
    out.result(data, human);
    return 0;
  },
};

function statusText(p: PackageOutcome): string {
  if (p.status === 'refused' || p.status === 'failed') return `${p.status}: ${p.error?.code ?? ''}`;
  return p.status;
}

function describe(p: PackageOutcome) {
  return {
    name: p.name,
    version: p.version,
    action: p.action,
    status: p.status,
    wheel: p.wheel,
    seal: p.summary ? { chain_hash: p.summary.chainHash, fingerprint: p.summary.fingerprint, artifact: p.summary.artifact, source_sha256: p.summary.sourceSha256 } : null,
    decision: p.decision
      ? { accepted: p.decision.accepted, mode: p.decision.mode, required: p.decision.required, counted: p.decision.counted, missing: p.decision.missing, signers: p.decision.results }
      : null,
    error: p.error ? p.error.toJSON() : null,
    log: p.log,
  };
}
