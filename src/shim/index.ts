// The Node side of the sealed-backend PEP 517 shim (python-shim/): build in the frontend's own build
// environment, seal, and put the seal beside the wheel. `sealed backend-build` maps its flags to this.
// start.ts is the light entry (it starts the backend before the rest of Sealed loads); backend-build.ts seals.
export { backendBuild, type BackendBuildOptions, type BackendBuildResult } from './start.js';
export { parseBackendBuildArgs, parseConfigSettings, type BackendBuildRequest, type RawBackendBuildArgs, type ConfigSettings } from './request.js';
export { identifySourceTree, checkClaimedSdist, readPkgInfo, type ShimSource } from './source.js';
export { importableDistributions, parseInventory, inventoryScriptPath } from './inventory.js';
