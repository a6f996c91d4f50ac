// Shared by the reproducibility tests: a CLI run under a chosen umask (a child inherits its umask, so a
// shell sets it and then execs node), and a fixture whose in-tree backend embeds the build time and a
// random number unless SETUPTOOLS_DEMO_STAMP fixes the value.

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath } from '../helpers/paths.js';
import { makeSdist } from '../helpers/projects.js';
import type { CliResult } from '../helpers/cli.js';

export function runCliWithUmask(umask: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<CliResult> {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SEALED_')) base[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', 'umask "$0" && exec "$@"', umask, process.execPath, cliPath(), ...args], {
      cwd,
      env: { ...base, SEALED_TPM: 'off', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('error', reject);
    child.on('close', (status) => {
      let json: unknown;
      try {
        json = args.includes('--json') ? JSON.parse(stdout) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ status, stdout, stderr, json });
    });
  });
}

const STAMP_BACKEND = `import base64, hashlib, os, random, time, zipfile

NAME = "demo_stamp"
DIST_INFO = NAME + "-1.0.0.dist-info"
WHEEL = NAME + "-1.0.0-py3-none-any.whl"


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    # The time and a random number: what a backend that is not reproducible embeds.
    stamp = os.environ.get("SETUPTOOLS_DEMO_STAMP") or "%d %r" % (time.time_ns(), random.random())
    files = [
        (NAME + "/__init__.py", 'VALUE = "demo-stamp"\\n'),
        (NAME + "/stamp.py", "BUILT = %r\\n" % stamp),
        (DIST_INFO + "/METADATA", "Metadata-Version: 2.1\\nName: demo-stamp\\nVersion: 1.0.0\\n"),
        (DIST_INFO + "/WHEEL", "Wheel-Version: 1.0\\nGenerator: stamp\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"),
    ]
    record = []
    for name, text in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (name, digest, len(text.encode())))
    record.append(DIST_INFO + "/RECORD,,")
    files.append((DIST_INFO + "/RECORD", "\\n".join(record) + "\\n"))
    with zipfile.ZipFile(os.path.join(wheel_directory, WHEEL), "w") as z:
        for name, text in files:
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            z.writestr(info, text)
    return WHEEL
`;

/** The sdist of demo-stamp 1.0.0, whose wheel holds demo_stamp/stamp.py with the time and a random number. */
export async function stampSdist(parent: string): Promise<string> {
  const dir = join(parent, 'projects', 'demo-stamp-1.0.0');
  mkdirSync(join(dir, '_backend'), { recursive: true });
  mkdirSync(join(dir, 'demo_stamp'), { recursive: true });
  writeFileSync(
    join(dir, 'pyproject.toml'),
    '[build-system]\nrequires = []\nbuild-backend = "stamp_backend"\nbackend-path = ["_backend"]\n\n[project]\nname = "demo-stamp"\nversion = "1.0.0"\n',
  );
  writeFileSync(join(dir, '_backend', 'stamp_backend.py'), STAMP_BACKEND);
  writeFileSync(join(dir, 'demo_stamp', '__init__.py'), 'VALUE = "demo-stamp"\n');
  return makeSdist(dir, { backend: 'failing', name: 'demo-stamp', version: '1.0.0' }, join(parent, 'sdists'));
}
