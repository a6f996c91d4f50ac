// The source: a verified download of the sdist the index lists, and its safe unpacking (SPEC section 5).
export { downloadVerified, type DownloadResult, type DownloadOptions } from './download.js';
export { extractSdist, type Extracted } from './extract.js';
