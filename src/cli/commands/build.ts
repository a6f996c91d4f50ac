import { resolve } from 'node:path';
import type { Command } from '../command.js';
import { listOption, stringOption } from '../command.js';
import { resolveIndexConfig } from '../../index/index.js';
import { probePython, resolvePythonCommand } from '../../env/index.js';
import { tpmConfigFromEnv } from '../../tpm/index.js';
import { BuildLog } from '../../build/log.js';
import { classifySource, logPathFor, publish, sealFromSource, sourceLabel, storeSealed, withWorkDir } from '../../pipeline/index.js';
import { Registry } from '../../registry/index.js';
import { resolveSandboxMode } from '../../sandbox/index.js';
import { HttpClient } from '../../http/index.js';
import { sourceStages } from '../../install/stages.js';
import { StageLog } from '../progress.js';
import { REQUIREMENT_OPTIONS } from '../requirement-options.js';
import { buildWheelhouse } from './build-wheelhouse.js';
import { SealedError } from '../../errors.js';
import { Notices } from '../notices.js';
import { checkPythonPath } from '../python-check.js';

export const command: Command = {
  name: 'build',
  usage: 'build <sdist | source-dir | name==version> | -r FILE [-c FILE] | --lock pylock.toml [-o DIR] [--index-url U] [--python P] [--sandbox bwrap|uid|none] [--allow-redirect HOST]... [--json]',
  summary:
    'Builds a wheel with the package\'s real PEP 517 backend in a fresh isolated environment, seals it, writes the wheel, <wheel>.seal.json and <wheel>.intoto.jsonl (the seal as SLSA provenance in DSSE) into DIR (default ./dist) and stores the seal in the registry. Never pins keys.',
  options: { output: { type: 'string', short: 'o' }, 'index-url': { type: 'string' }, python: { type: 'string' }, sandbox: { type: 'string' }, 'allow-redirect': { type: 'string', multiple: true }, ...REQUIREMENT_OPTIONS },
  minPositionals: 0,
  maxPositionals: 1,
  async run(ctx, args) {
    const out = ctx.out;
    const home = ctx.home();
    const notices = new Notices(out, home);
    const tpm = tpmConfigFromEnv(ctx.env);
    if (args.values.requirement || args.values.constraint || args.values.lock) return buildWheelhouse(ctx, args, home);
    if (args.positionals.length !== 1) throw new SealedError('USAGE', `Name one sdist, source folder or name==version (or -r FILE).\nusage: sealed ${command.usage}`);
    const sandboxMode = resolveSandboxMode(stringOption(args, 'sandbox'), ctx.env);
    const spec = await classifySource(args.positionals[0]!, ctx.cwd);
    const index = resolveIndexConfig(stringOption(args, 'index-url'), ctx.env, notices.warn);
    const python = resolvePythonCommand(stringOption(args, 'python'), ctx.env);
    checkPythonPath(python, ctx.cwd);
    const py = await probePython(python);
    const outDir = resolve(ctx.cwd, stringOption(args, 'output') ?? 'dist');
    const label = sourceLabel(spec);
    const logPath = logPathFor(home, label);

    const http = new HttpClient({ allowRedirectHosts: listOption(args, 'allow-redirect') });
    const stage = new StageLog(out, ctx.io.stderr).report;
    const buildStart = Date.now();
    const result = await withWorkDir(home, 'build', async (workDir) => {
      const built = await sealFromSource(spec, {
        http,
        home,
        python,
        indexUrl: index.url,
        pythonVersion: py.version,
        workDir,
        env: ctx.env,
        tpm,
        sandboxMode,
        log: new BuildLog(logPath),
        warn: notices.warn,
        onProgress: (m) => out.progress(m),
        onStage: (s) => out.progress(`${label}: ${s}`),
      });
      const named = `${built.summary.name} ${built.summary.version}`;
      for (const e of sourceStages(named, built.summary.source)) stage(e);
      stage({ package: named, stage: 'built', seconds: (Date.now() - buildStart) / 1000, detail: built.summary.artifact.filename });
      const written = await publish(built, outDir);
      const registry = Registry.open(home);
      try {
        storeSealed(registry, built, written.wheel);
        stage({ package: named, stage: 'sealed', detail: built.summary.fingerprint });
        const pins = registry.pinsFor(built.summary.name);
        if (pins.length > 0 && !pins.some((p) => p.fingerprint === built.summary.fingerprint)) {
          out.warn(
            `Your key ${built.summary.fingerprint} is not pinned for ${built.summary.name} (pinned: ${pins.map((p) => p.fingerprint).join(', ')}); ` +
              '`sealed install` will refuse this seal unless the pinned key is revoked or the policy needs more signers.',
          );
        }
      } finally {
        registry.close();
      }
      return { built, written };
    }).finally(() => http.close());

    const s = result.built.summary;
    out.result(
      {
        package: { name: s.name, version: s.version },
        wheel: result.written.wheel,
        seal: result.written.seal,
        attestation: result.written.attestation,
        artifact: s.artifact,
        chain_hash: s.chainHash,
        signer: { public_key: s.publicKey, fingerprint: s.fingerprint },
        source: s.source,
        tpm: s.hasTpm,
        log: result.built.log,
      },
      () =>
        [
          `sealed ${s.name} ${s.version}`,
          `  wheel:  ${result.written.wheel}`,
          `  seal:   ${result.written.seal}`,
          `  attest: ${result.written.attestation}`,
          `  sha256: ${s.artifact.sha256}`,
          `  signer: ${s.fingerprint}`,
          `  source: ${s.source.kind === 'tree' ? `tree ${s.sourceSha256}` : `${s.source.filename} sha256 ${s.sourceSha256}`}`,
          `  tpm:    ${s.hasTpm ? 'quote included' : 'none (software-only measurement)'}`,
        ].join('\n'),
    );
    return 0;
  },
};
