import { pending } from './_pending.js';
export const command = pending('verify');
