// A project page of hundreds of MiB, generated as it is sent (never held whole, here or anywhere), from a
// server on 127.0.0.1: for the memory test of the page readers and for bench/index-page.ts.
//  - 'padded': a few hundred files, each with its real fields and a large field Sealed does not read;
//  - 'pypi': as PyPI lists a project with many wheels, every file about 600 bytes, all of it real fields.

import { createServer, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export type BigPageKind = 'padded' | 'pypi';
export type BigPageFormat = 'json' | 'html';

export interface BigPageOptions {
  kind: BigPageKind;
  format: BigPageFormat;
  /** About this many bytes (the last file is whole, so a little more). */
  bytes: number;
}

export interface BigPageServer {
  /** The index URL; the page is at `${url}big/`. */
  url: string;
  pageUrl: string;
  /** How many files the page lists. */
  files: number;
  /** Bytes of the page (the same every time it is served). */
  size: number;
  close(): Promise<void>;
}

/** What the readers must list for file i (url relative to the page, resolved by the reader). */
export function expectedFile(kind: BigPageKind, i: number): { filename: string; url: string; sha256: string; size: number | null; requiresPython: string } {
  const sha256 = createHash('sha256').update(`file ${i}`).digest('hex');
  const filename = kind === 'pypi' ? `big-1.${i}-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl` : `big-1.${i}.tar.gz`;
  const url = `https://files.example.org/packages/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256.slice(4, 60)}/${filename}`;
  return { filename, url, sha256, size: 1000 + i, requiresPython: '>=3.8' };
}

const PAD = 'p'.repeat(200 * 1024);
const JUNK = JSON.stringify([{ a: [1, 2.5e3, { b: 'x'.repeat(100), c: [null, true, false] }] }]);

function jsonFile(kind: BigPageKind, i: number): string {
  const f = expectedFile(kind, i);
  const common = `"filename":"${f.filename}","url":"${f.url}","hashes":{"sha256":"${f.sha256}"},"requires-python":"${f.requiresPython}","size":${f.size},"yanked":false`;
  if (kind === 'pypi') {
    return `{"core-metadata":{"sha256":"${f.sha256}"},"data-dist-info-metadata":{"sha256":"${f.sha256}"},${common},"upload-time":"2024-02-05T23:58:36.364848Z"}`;
  }
  return `{${common},"upload-time":"2024-02-05T23:58:36.364848Z","x-padding":"${PAD}","x-junk":${JUNK}}`;
}

function htmlFile(kind: BigPageKind, i: number): string {
  const f = expectedFile(kind, i);
  const a = `<a href="${f.url}#sha256=${f.sha256}" data-requires-python="&gt;=3.8" data-dist-info-metadata="sha256=${f.sha256}"`;
  if (kind === 'pypi') return `${a}>${f.filename}</a><br />\n`;
  return `${a} title="${PAD}">${f.filename}</a><!-- ${PAD} --><br />\n`;
}

function fileCount(opts: BigPageOptions): number {
  const one = (opts.format === 'json' ? jsonFile : htmlFile)(opts.kind, 123456).length + 1;
  return Math.max(1, Math.ceil(opts.bytes / one));
}

/** The page, in pieces of about 64 KiB. */
export function* pageChunks(opts: BigPageOptions, files = fileCount(opts)): Generator<string> {
  const json = opts.format === 'json';
  let buf = json
    ? `{"meta":{"api-version":"1.1","_last-serial":1},"name":"big","files":[`
    : `<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.1"><title>Links for big</title></head><body><h1>Links for big</h1>\n`;
  for (let i = 0; i < files; i++) {
    buf += json ? (i > 0 ? ',' : '') + jsonFile(opts.kind, i) : htmlFile(opts.kind, i);
    if (buf.length >= 65536) {
      yield buf;
      buf = '';
    }
  }
  buf += json ? `],"versions":["1.0"]}` : '</body></html>\n';
  yield buf;
}

function pump(res: ServerResponse, chunks: Iterator<string>): void {
  const step = () => {
    for (;;) {
      const next = chunks.next();
      if (next.done) {
        res.end();
        return;
      }
      if (!res.write(next.value)) {
        res.once('drain', step);
        return;
      }
    }
  };
  step();
}

export async function startBigPageServer(opts: BigPageOptions): Promise<BigPageServer> {
  const files = fileCount(opts);
  let size = 0;
  for (const c of pageChunks(opts, files)) size += Buffer.byteLength(c);
  const server = createServer((req, res) => {
    if (req.url !== '/simple/big/') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': opts.format === 'json' ? 'application/vnd.pypi.simple.v1+json' : 'text/html; charset=utf-8',
      'content-length': String(size),
    });
    pump(res, pageChunks(opts, files));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/simple/`;
  return {
    url,
    pageUrl: `${url}big/`,
    files,
    size,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
