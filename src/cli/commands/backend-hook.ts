import type { Command } from '../command.js';
import { boolOption, stringOption } from '../command.js';
import { SealedError } from '../../errors.js';
import { isShimHook, runShimHook, SHIM_HOOKS } from '../../shim/hook.js';
import { parseBackendBuildArgs } from '../../shim/request.js';
import { resolveSandboxMode } from '../../sandbox/mode.js';

export const command: Command = {
  name: 'backend-hook',
  usage:
    'backend-hook --hook NAME --source DIR --out-dir DIR --backend SPEC --python EXE [--backend-path P]... [--config-settings JSON] [--metadata-dir DIR] [--probe] [--sandbox bwrap|uid|none] [--json]',
  summary:
    'Used by the sealed-backend PEP 517 shim: runs one of the real backend\'s other hooks (get_requires_for_build_*, prepare_metadata_for_build_*, build_sdist, build_editable) in the build sandbox and hands its checked result to the frontend.',
  options: {
    hook: { type: 'string' },
    source: { type: 'string' },
    'out-dir': { type: 'string' },
    backend: { type: 'string' },
    'backend-path': { type: 'string', multiple: true },
    'config-settings': { type: 'string' },
    python: { type: 'string' },
    'metadata-dir': { type: 'string' },
    probe: { type: 'boolean' },
    sandbox: { type: 'string' },
  },
  async run(ctx, args) {
    const hook = stringOption(args, 'hook') ?? '';
    if (!isShimHook(hook)) throw new SealedError('USAGE', `--hook must be one of ${SHIM_HOOKS.join(', ')} (build_wheel is backend-build's).`);
    const bp = args.values['backend-path'];
    const backendPath = Array.isArray(bp) ? bp : typeof bp === 'string' ? [bp] : undefined;
    const request = parseBackendBuildArgs(
      {
        source: stringOption(args, 'source'),
        wheelDir: stringOption(args, 'out-dir'),
        backend: stringOption(args, 'backend'),
        ...(backendPath ? { backendPath } : {}),
        configSettings: stringOption(args, 'config-settings'),
        python: stringOption(args, 'python'),
        metadataDir: stringOption(args, 'metadata-dir'),
      },
      ctx.env,
    );
    const r = await runShimHook({
      hook,
      probe: boolOption(args, 'probe'),
      sourceDir: request.sourceDir,
      backend: request.backend,
      backendPath: request.backendPath,
      python: request.python,
      configSettings: request.configSettings,
      outDir: request.wheelDir,
      metadataDirectory: request.metadataDirectory,
      home: ctx.home(),
      env: ctx.env,
      sandboxMode: resolveSandboxMode(stringOption(args, 'sandbox'), ctx.env),
      // The frontend shows the hook's stderr; stdout stays this command's one JSON document.
      onBackendOutput: (chunk) => ctx.io.stderr.write(chunk),
    });
    ctx.out.result(r.unsupported ? { hook, unsupported: true, log: r.log } : { hook, unsupported: false, value: r.value, log: r.log }, () =>
      r.unsupported ? `${hook}: the backend has no such hook` : `${hook}: ${JSON.stringify(r.value)}`,
    );
  },
};
