import { pending } from './_pending.js';
export const list = pending('registry list');
export const pins = pending('registry pins');
export const exportCommand = pending('registry export');
export const importCommand = pending('registry import');
export const revoke = pending('registry revoke');
