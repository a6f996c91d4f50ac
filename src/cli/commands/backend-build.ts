import type { Command, Context, ParsedArgs } from '../command.js';
import { boolOption, stringOption } from '../command.js';
import { SealedError } from '../../errors.js';
import { tpmConfigFromEnv } from '../../tpm/config.js';
import { backendBuild } from '../../shim/start.js';
import { parseBackendBuildArgs } from '../../shim/request.js';
import { resolveSandboxMode } from '../../sandbox/mode.js';

export const command: Command = {
  name: 'backend-build',
  usage:
    'backend-build --source DIR --wheel-dir DIR --backend SPEC --python EXE [--backend-path P]... [--config-settings JSON] [--seal-dir DIR] [--sdist-sha256 HEX] [--metadata-dir DIR] [--inventory-on-stdin] [--sandbox bwrap|uid|none] [--json]  |  backend-build --listen-fd N --python EXE --secret-fd M --frontend-pid P [--idle-seconds S] [--socket-path F] (the shim\'s started-ahead server, cli/serve.ts)',
  summary:
    'Used by the sealed-backend PEP 517 shim: runs the real backend\'s build_wheel in the frontend\'s build environment (that interpreter, that environment), seals the wheel, writes <wheel>.seal.json beside it and into --seal-dir, and stores both in the registry. Prints the wheel\'s file name.',
  options: {
    source: { type: 'string' },
    'wheel-dir': { type: 'string' },
    backend: { type: 'string' },
    'backend-path': { type: 'string', multiple: true },
    'config-settings': { type: 'string' },
    python: { type: 'string' },
    'seal-dir': { type: 'string' },
    'sdist-sha256': { type: 'string' },
    'metadata-dir': { type: 'string' },
    'inventory-on-stdin': { type: 'boolean' },
    'served-since': { type: 'string' },
    sandbox: { type: 'string' },
  },
  async run(ctx, args) {
    // Read from the start: the shim writes it while this process loads.
    const stdin = ctx.io.stdin;
    const inventory = boolOption(args, 'inventory-on-stdin') ? readAll(stdin) : undefined;
    inventory?.catch(() => undefined);
    try {
      await sealOne(ctx, args, inventory);
    } finally {
      // Nothing more is read; an open stdin must not keep this process alive after a failure.
      if (inventory && 'destroy' in stdin && typeof stdin.destroy === 'function') stdin.destroy();
    }
  },
};

async function sealOne(ctx: Context, args: ParsedArgs, inventory: Promise<string> | undefined): Promise<void> {
  const out = ctx.out;
  const backendPath = listOption(args, 'backend-path');
  const request = parseBackendBuildArgs(
    {
      source: stringOption(args, 'source'),
      wheelDir: stringOption(args, 'wheel-dir'),
      sealDir: stringOption(args, 'seal-dir'),
      backend: stringOption(args, 'backend'),
      ...(backendPath ? { backendPath } : {}),
      configSettings: stringOption(args, 'config-settings'),
      python: stringOption(args, 'python'),
      metadataDir: stringOption(args, 'metadata-dir'),
      sdistSha256: stringOption(args, 'sdist-sha256'),
    },
    ctx.env,
  );
  const r = await backendBuild({
    ...request,
    home: ctx.home(),
    env: ctx.env,
    tpm: tpmConfigFromEnv(ctx.env),
    sandboxMode: resolveSandboxMode(stringOption(args, 'sandbox'), ctx.env),
    ...(inventory ? { inventory } : {}),
    ...(stringOption(args, 'served-since') ? { servedSince: stringOption(args, 'served-since') } : {}),
    warn: (m) => out.warn(m, m),
    onStage: (s) => out.progress(`sealed: ${s}`),
    // The frontend shows the backend hook's stderr; stdout stays this command's one JSON document.
    onBackendOutput: (chunk) => ctx.io.stderr.write(chunk),
  });
  const s = r.summary;
  out.result(
    {
      wheel: r.wheel,
      wheel_path: r.wheelPath,
      seal: r.sealPath,
      seal_copy: r.sealCopy,
      stored_wheel: r.storedWheel,
      package: { name: s.name, version: s.version },
      artifact: s.artifact,
      chain_hash: s.chainHash,
      signer: { public_key: s.publicKey, fingerprint: s.fingerprint },
      source: s.source,
      tpm: s.hasTpm,
      log: r.log,
    },
    () =>
      [`sealed ${s.name} ${s.version}`, `  wheel: ${r.wheelPath}`, `  seal:  ${r.sealPath}`, ...(r.sealCopy && r.sealCopy !== r.sealPath ? [`  copy:  ${r.sealCopy}`] : [])].join('\n'),
  );
}

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

function listOption(args: ParsedArgs, name: string): string[] | undefined {
  const v = args.values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : undefined;
}
