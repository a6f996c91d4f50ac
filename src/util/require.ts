// CommonJS packages are loaded with require, not import. Node 20 reads a CommonJS file that is
// imported twice more before running it (to tell whether it is a module, then to find its exports):
// for the AWS SDK's bundles that cost more CPU than running them.
import { createRequire } from 'node:module';

export const requireCommonJs = createRequire(import.meta.url);
