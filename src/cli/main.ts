#!/usr/bin/env node
// The process entry: one command line with this process's streams. The exit code is set here and
// nowhere else (process.exitCode, so buffered output is never cut off).

import { runCli } from './run.js';
import { installSignalCleanup } from '../util/cleanup.js';

installSignalCleanup();

const argv = process.argv.slice(2);
// `backend-build --listen-fd N`: the shim's started-ahead server, the second entry (serve.ts).
const serving = argv.includes('backend-build') && argv.includes('--listen-fd');
(serving ? import('./serve.js').then((m) => m.serveMain(argv)) : runCli(argv, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr })).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`sealed: ${String(e)}\n`);
    process.exitCode = 3;
  },
);
