// The entry of `sealed install`: pip is put to work first (resolving, and the installing pip importing
// itself), and only then is the rest of Sealed (registry, seals, policy, index client) loaded, while pip
// runs. Light imports only here.

import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { probePython, pythonFactsFrom } from '../env/python.js';
import { withWorkDir } from '../pipeline/workspace.js';
import { checkIndexReachable } from './reachable.js';
import { startPipInstall } from './pip-install.js';
import { resolveWithPip } from './pip-resolve.js';
import { ResolutionHints } from './pip-hints.js';
import { startWarmPip } from '../build/warm-pip.js';
import { withoutKeySecrets } from '../signer/secrets.js';
import type { InstallOptions, InstallResult } from './types.js';

export async function installPackages(o: InstallOptions): Promise<InstallResult> {
  const requirements = await Promise.all(o.requirements.map(async (r) => ((await stat(resolve(o.cwd, r)).catch(() => null))?.isFile() ? resolve(o.cwd, r) : r)));
  return withWorkDir(o.home, 'install', async (workDir) => {
    await checkIndexReachable(o.indexUrl, o.env);
    o.progress('resolving with pip');
    // What pip names while it resolves starts the reads of index pages and cache listings before its report is in.
    const hints = new ResolutionHints();
    if (o.cache && !o.dryRun) hints.listen((h) => o.cache!.hint(h.name, h.version));
    let resolving: () => void = () => undefined;
    const spawned = new Promise<void>((resolve) => (resolving = resolve));
    const firstResolution = resolveWithPip({ python: o.python, requirements, indexUrl: o.indexUrl, noDeps: o.noDeps, env: o.env, workDir, pipArgs: o.pipArgs ?? [], readable: o.pipFiles ?? [], hashChecking: (o.pipArgs ?? []).length > 0 && o.checkSources !== undefined, home: o.home, ...(o.sandboxMode ? { sandboxMode: o.sandboxMode } : {}), hints, onSpawn: resolving });
    firstResolution.catch(() => undefined); // awaited by runInstall
    // Nothing else starts until the resolving pip has: its sandbox is made on this thread, which the
    // other processes' starts and the module loads below would hold up.
    await Promise.race([spawned, firstResolution.then(() => undefined, () => undefined)]);
    const installer = o.dryRun ? null : startPipInstall(o.python, o.env, join(workDir, 'sealed-wheels.txt'));
    // And a pip for a build environment: when the resolution names a project to build, this one has
    // imported itself by then (runInstall stops it when nothing is likely to be built). Not with a
    // cache, which is there to spare the build.
    const spareWarmPip = o.dryRun || o.cache ? null : startWarmPip(o.python, withoutKeySecrets(o.env));
    try {
      // The installing pip reports the interpreter's facts: no probe process of its own (dry run: the probe).
      const python = installer ? pythonFactsFrom(o.python, installer.facts) : probePython(o.python);
      python.catch(() => undefined);
      // The wheel tags come from the same probe run (one interpreter start fewer).
      const tags = python.then((f) => (f.tags ? new Set(f.tags) : null), () => null);
      // The caches open (an s3:// one loads the AWS SDK) while pip resolves, before the rest of Sealed
      // loads: pip names what it resolves (the hints) well before its report, and they need the caches.
      if (o.cache) await Promise.race([o.cache.ready(), firstResolution.then(() => undefined, () => undefined)]);
      const { runInstall } = await import('./run-install.js');
      return await runInstall(o, { workDir, requirements, python, firstResolution, installer, tags, spareWarmPip, hints });
    } finally {
      installer?.cancel();
      spareWarmPip?.cancel();
    }
  });
}
