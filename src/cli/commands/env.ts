import type { Command } from '../command.js';
import { stringOption } from '../command.js';
import { measureEnvironment, resolvePythonCommand } from '../../env/index.js';
import { describeSandbox } from '../../sandbox/index.js';
import { escapeText } from '../../core/text.js';

export const command: Command = {
  name: 'env',
  usage: 'env [--python P] [--json]',
  summary: 'Prints the environment measurement a build here would record: interpreter, pip, kernel, OS, CPU, libc, compilers, build-affecting variables (secrets only as "present"), and the build sandbox (default kind, bwrap, whether it can make namespaces and cut the network here).',
  options: { python: { type: 'string' } },
  async run(ctx, args) {
    const python = resolvePythonCommand(stringOption(args, 'python'), ctx.env);
    const tpmSetting = ctx.env.SEALED_TPM ?? 'auto';
    // The TPM record itself is measured by `sealed tpm status`; this shows the software part.
    const [body, sandbox] = await Promise.all([measureEnvironment({ python, env: ctx.env, tpm: 'absent', home: ctx.home() }), describeSandbox(ctx.env)]);
    const b = sandbox.bwrap;
    ctx.out.result({ environment: body, tpm_setting: tpmSetting, sandbox }, () => {
      const lines = [
        `python:    ${body.python.implementation} ${body.python.version} ${body.python.path}`,
        `           sha256 ${body.python.sha256}`,
        `pip:       ${body.pip_version ?? '(not installed)'}`,
        `kernel:    ${body.kernel.release} ${body.kernel.version}`,
        `os:        ${body.os_release.PRETTY_NAME ?? '(unknown)'}`,
        `cpu:       ${body.cpu_arch}`,
        `libc:      ${body.libc ? `${body.libc.name} ${body.libc.version}` : '(unknown)'}`,
        'compilers:',
        ...(body.compilers.length ? body.compilers.map((c) => `  ${c.name.padEnd(9)} ${c.version}`) : ['  (none found)']),
        'build-affecting variables:',
        ...(Object.keys(body.env_vars).length
          ? Object.entries(body.env_vars).map(([k, v]) => `  ${k}=${typeof v === 'string' ? v : '(set; value not recorded)'}`)
          : ['  (none set)']),
        `tpm:       SEALED_TPM=${tpmSetting}; see \`sealed tpm status\``,
        `sandbox:   default ${typeof sandbox.default === 'string' ? sandbox.default : `invalid (${escapeText(sandbox.default.invalid)})`}`,
        `  bwrap:   ${b.path ? `${escapeText(b.path)} (${escapeText(b.version ?? 'version unknown')})` : '(not on PATH)'}`,
        `  namespaces: ${b.namespaces.ok ? 'ok' : `cannot be made here: ${escapeText(b.namespaces.cause)}`}`,
        `  network: ${b.network_cut === null ? '(not tried)' : b.network_cut ? 'cut (only loopback inside)' : `NOT cut (${(b.interfaces ?? []).map((i) => escapeText(i)).join(', ')})`}`,
        `  uid:     build user ${escapeText(sandbox.uid.build_user)} ${sandbox.uid.exists ? 'exists' : 'does not exist'}; keeps the network`,
      ];
      return lines.join('\n');
    });
  },
};
