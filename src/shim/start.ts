// The entry of `sealed backend-build`, first half. The backend's runner starts before anything else (its
// Python start and the backend's import are the longest wait), and while it starts the source tree is
// recorded. Only then is the runner let call build_wheel: a backend may write into the tree (setuptools
// adds build/ and *.egg-info). The environment measurement and the rest of Sealed (seal, registry) start
// while the backend builds; backend-build.ts seals. Light imports only here.

import { basename } from 'node:path';
import { BuildLog } from '../build/log.js';
import type { StartedHook } from '../build/hooks.js';
import { privateTree } from '../build/builder.js';
import { ProjectBuilder } from '../build/project-builder.js';
import { logPathFor, withWorkDir } from '../pipeline/workspace.js';
import { openSandbox, resolveSandboxMode, type HookSandbox } from '../sandbox/index.js';
import type { BackendBuildOptions, BackendBuildResult } from './backend-build.js';

export type { BackendBuildOptions, BackendBuildResult } from './backend-build.js';

export async function backendBuild(o: BackendBuildOptions): Promise<BackendBuildResult> {
  const logPath = logPathFor(o.home, basename(o.sourceDir));
  return withWorkDir(o.home, 'backend-build', async (workDir) => {
    const log = new BuildLog(logPath, o.onBackendOutput);
    if (o.servedSince) log.write(`sealed: served by process ${process.pid}, started at ${o.servedSince} ahead of build_wheel\n`);
    // Fail closed before the backend is even imported: no sandbox, no build.
    const sandbox = await openSandbox(o.sandboxMode ?? resolveSandboxMode(undefined, o.env), { home: o.home, env: o.env });
    // The frontend's folder is copied: the backend writes to its own copy, never to the project.
    const tree = await privateTree(o.sourceDir, workDir);
    const builder = new ProjectBuilder({
      tree,
      backend: o.backend,
      backendPath: o.backendPath,
      python: o.python,
      env: o.env,
      keepPythonPath: true,
      sandbox,
      log,
      workDir,
    });
    const wheelDir = builder.outputFolder('wheel');
    const hook = await builder.startBuildWheel(wheelDir, o.configSettings, o.metadataDirectory);
    try {
      return await prepareAndSeal(o, { workDir, log, wheelDir, hook, sandbox });
    } finally {
      // On any failure, the runner is told off (or, once running, waited for) before the work folder goes.
      await hook.close();
    }
  });
}

async function prepareAndSeal(
  o: BackendBuildOptions,
  h: { workDir: string; log: BuildLog; wheelDir: string; hook: StartedHook; sandbox: HookSandbox },
): Promise<BackendBuildResult> {
  // Loaded once the runner is on its way (the TOML parser and the measurement are not needed before).
  const [{ checkClaimedSdist, identifySourceTree }, { measureEnvironment }, { probePython }, { importableDistributions, parseInventory }] = await Promise.all([
    import('./source.js'),
    import('../env/measure.js'),
    import('../env/python.js'),
    import('./inventory.js'),
  ]);
  const claim = o.claimedSdistSha256;
  const checkClaim =
    claim === null
      ? null
      : async (name: string, version: string) =>
          checkClaimedSdist(claim, name, version, { env: o.env, pythonVersion: (await probePython(o.python)).version, warn: o.warn });

  // First the tree, with nothing else competing for the two or so cores a build machine has: the build
  // waits on it.
  o.onStage?.('identifying the source');
  const source = await identifySourceTree(o.sourceDir, claim);
  const declared = source.prepared.declared;
  if (checkClaim && declared) source.prepared.indexUrl = await checkClaim(declared.name, declared.version);

  o.onStage?.('building the wheel');
  const startedAt = new Date().toISOString();
  const built = h.hook.run().then((outcome) => ({ outcome, startedAt }));
  // While the backend builds: the measurement, the inventory (the frontend finished installing before it
  // called build_wheel, so the environment listed now is the one the backend builds in), the rest of Sealed.
  const environment = measureEnvironment({ python: o.python, env: o.env, tpm: 'absent', home: o.home });
  const inventory = o.inventory ? o.inventory.then((text) => parseInventory(text, o.python)) : importableDistributions(o.python, o.env, o.sourceDir);
  const sealing = import('./backend-build.js');
  for (const p of [built, environment, inventory, sealing]) p.catch(() => undefined); // awaited when sealing
  const { sealStartedBuild } = await sealing;
  return sealStartedBuild(o, {
    workDir: h.workDir,
    log: h.log,
    source,
    wheelDir: h.wheelDir,
    sandbox: h.sandbox,
    built,
    environment,
    inventory,
    checkClaimAfterBuild: checkClaim && !declared ? checkClaim : null,
  });
}
