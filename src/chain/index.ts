export * from './types.js';
export { CHAIN_START, linkRecords, chainHashOf, checkChain, type ChainCheck } from './chain.js';
