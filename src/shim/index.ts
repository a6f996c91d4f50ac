// The Node side of the sealed-backend PEP 517 shim (python-shim/): build in the frontend's own build
// environment, seal, and put the seal beside the wheel. `sealed backend-build` maps its flags to this.
export { backendBuild, type BackendBuildOptions, type BackendBuildResult } from './backend-build.js';
export { parseBackendBuildArgs, parseConfigSettings, type BackendBuildRequest, type RawBackendBuildArgs, type ConfigSettings } from './request.js';
export { identifySourceTree, checkClaimedSdist, readPkgInfo, type ShimSource } from './source.js';
export { importableDistributions, parseInventory, inventoryScriptPath } from './inventory.js';
