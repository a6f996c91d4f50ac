import { pending } from './_pending.js';
export const show = pending('policy show');
export const set = pending('policy set');
