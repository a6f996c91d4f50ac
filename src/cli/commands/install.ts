import type { Command } from '../command.js';
import { boolOption, listOption, stringOption } from '../command.js';
import { table } from '../output.js';
import { StageLog } from '../progress.js';
import { Notices } from '../notices.js';
import { checkPythonPath } from '../python-check.js';
import { REQUIREMENT_OPTIONS, checkLockFor, requirementInputs } from '../requirement-options.js';
import { SealedError } from '../../errors.js';
// The modules themselves, not their domains' index files: pip starts resolving only once this command
// has loaded, and the rest of Sealed loads while pip runs (install-packages.ts).
import { resolveIndexConfig } from '../../index/config.js';
import { resolvePythonCommand } from '../../env/python.js';
import { tpmConfigFromEnv } from '../../tpm/config.js';
import { installPackages, type PackageOutcome } from '../../install/index.js';
import { resolveSandboxMode } from '../../sandbox/mode.js';

export const command: Command = {
  name: 'install',
  usage: 'install <req>... | -r FILE [-c FILE] [--upgrade] | --lock pylock.toml [--index-url U] [--python P] [--no-deps] [--dry-run] [--trusted-keys F] [--min-signatures N] [--sandbox bwrap|uid|none] [--allow-redirect HOST]... [--cache URL]... [--push] [--s3-endpoint URL] [--json]',
  summary:
    'Resolves with pip, builds every resolved distribution from its verified sdist (or reuses a valid stored seal and wheel), seals it, checks pins and policy, then installs exactly the sealed wheels with pip (--no-index --no-deps, hashes required). Any refusal installs nothing.',
  options: {
    'index-url': { type: 'string' },
    python: { type: 'string' },
    'no-deps': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    'trusted-keys': { type: 'string' },
    'min-signatures': { type: 'string' },
    sandbox: { type: 'string' },
    'allow-redirect': { type: 'string', multiple: true },
    ...REQUIREMENT_OPTIONS,
    upgrade: { type: 'boolean', short: 'U' },
    cache: { type: 'string', multiple: true },
    push: { type: 'boolean' },
    's3-endpoint': { type: 'string' },
  },
  minPositionals: 0,
  maxPositionals: 1000,
  async run(ctx, args) {
    const out = ctx.out;
    const minRaw = stringOption(args, 'min-signatures');
    const min = minRaw === undefined ? undefined : Number(minRaw);
    if (min !== undefined && (!Number.isInteger(min) || min < 1)) throw new SealedError('USAGE', `--min-signatures takes a whole number of at least 1, not "${minRaw}".`);
    const rosterPath = stringOption(args, 'trusted-keys');
    const trustedKeys = rosterPath ? (await import('../../policy/index.js')).readTrustedKeysFile(rosterPath, ctx) : undefined;
    const home = ctx.home();
    const notices = new Notices(out, home);
    const index = resolveIndexConfig(stringOption(args, 'index-url'), ctx.env, notices.warn);
    const python = resolvePythonCommand(stringOption(args, 'python'), ctx.env);
    checkPythonPath(python, ctx.cwd);
    const dryRun = boolOption(args, 'dry-run');
    const sandboxMode = resolveSandboxMode(stringOption(args, 'sandbox'), ctx.env);
    const inputs = await requirementInputs(args, ctx.cwd);
    await checkLockFor(inputs, python, ctx.env);
    const cache = await (await import('./install-cache.js')).cacheFor(ctx, args, home);

    const result = await installPackages({
      home,
      requirements: inputs.requirements,
      pipFiles: inputs.files,
      pipArgs: [...inputs.pipArgs, ...(boolOption(args, 'upgrade') ? ['--upgrade'] : [])],
      ...(inputs.checkSources ? { checkSources: inputs.checkSources } : {}),
      indexUrl: index.url,
      python,
      noDeps: boolOption(args, 'no-deps') || inputs.noDeps,
      dryRun,
      env: ctx.env,
      cwd: ctx.cwd,
      tpm: tpmConfigFromEnv(ctx.env),
      sandboxMode,
      allowRedirect: listOption(args, 'allow-redirect'),
      policy: { ...(min !== undefined ? { minSignatures: min } : {}), ...(trustedKeys ? { trustedKeys } : {}) },
      progress: (m) => out.progress(m),
      warn: notices.warn,
      stage: new StageLog(out, ctx.io.stderr).report,
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
      already_sealed: result.alreadySealed,
    };
    const human = () => {
      const rows = result.outcomes.map((p) => {
        const d = describe(p);
        return [p.name, p.version, d.action === 'reuse' ? 'reused seal' : d.action === 'substitute' ? 'from cache' : 'built', statusText(p), d.seal ? d.seal.fingerprint.slice(0, 19) + '…' : '-'];
      });
      const lines = [rows.length ? table(['package', 'version', 'action', 'status', 'signer'], rows) : 'nothing to install'];
      if (result.alreadySealed.length) lines.push(`already installed and sealed by Sealed: ${result.alreadySealed.map((p) => `${p.name} ${p.version}`).join(', ')} (sealed verify checks them)`);
      if (result.alreadySatisfied.length) lines.push(`already installed, not sealed by Sealed: ${result.alreadySatisfied.join(', ')}`);
      if (dryRun) lines.push('dry run: nothing was built or installed');
      else if (result.installed) lines.push(`installed ${result.outcomes.length} sealed wheel(s) into ${result.prefix}`);
      else if (result.error) lines.push(`nothing was installed into ${result.prefix}`);
      return lines.join('\n');
    };
    if (result.error) {
      if (!out.json) out.info(human());
      const failed = result.outcomes.map(describe).find((p) => p.error);
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
  const error = outcomeError(p);
  if (p.status === 'refused' || p.status === 'failed') return `${p.status}: ${error?.code ?? ''}`;
  return p.status;
}

function outcomeError(p: PackageOutcome): SealedError | null {
  return p.status === 'failed' ? p.error : p.status === 'refused' ? p.verdict.error : null;
}

function describe(p: PackageOutcome) {
  const sealed = p.status === 'accepted' || p.status === 'refused' ? p : null;
  const summary = sealed?.summary ?? (p.status === 'planned' ? p.summary : null);
  const decision = sealed?.verdict.decision ?? null;
  const error = outcomeError(p);
  return {
    name: p.name,
    version: p.version,
    action: p.status === 'skipped' || p.status === 'failed' ? 'build' : p.action,
    status: p.status,
    wheel: sealed?.wheel ?? null,
    seal: summary ? { chain_hash: summary.chainHash, fingerprint: summary.fingerprint, artifact: summary.artifact, source_sha256: summary.sourceSha256 } : null,
    decision: decision
      ? { accepted: decision.accepted, mode: decision.mode, required: decision.required, counted: decision.counted, missing: decision.missing, signers: decision.results }
      : null,
    error: error ? error.toJSON() : null,
    log: p.status === 'failed' ? p.log : (sealed?.log ?? null),
  };
}
