import { pending } from './_pending.js';
export const status = pending('tpm status');
