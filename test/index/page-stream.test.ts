import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { JsonPageReader, parseJsonPage } from '../../src/index/json-page.js';
import { HtmlPageReader, parseHtmlPage } from '../../src/index/html-page.js';
import type { ProjectPage } from '../../src/index/listing.js';
import { findSdist } from '../../src/index/index.js';
import { selectSdist } from '../../src/index/select.js';
import { parseRequirement } from '../../src/index/requirement.js';
import { MAX_LISTED_FILES } from '../../src/index/listing.js';
import { HttpClient } from '../../src/http/index.js';
import { throwsWith, rejectsWith } from '../helpers/rejects.js';
import { repoRoot } from '../helpers/paths.js';
import { expectedFile, startBigPageServer, type BigPageServer } from '../helpers/big-page.js';

const H = 'ab'.repeat(32);
const PAGE = 'https://index.example/simple/demo/';
const quiet = () => undefined;

/** The page's bytes fed to a reader one byte at a time, through a streaming UTF-8 decoder. */
function byteByByte(reader: JsonPageReader | HtmlPageReader, text: string): ProjectPage {
  const bytes = Buffer.from(text, 'utf8');
  const dec = new TextDecoder('utf-8');
  for (let i = 0; i < bytes.length; i++) reader.write(dec.decode(bytes.subarray(i, i + 1), { stream: true }));
  reader.write(dec.decode());
  return reader.end();
}

const jsonPage = (files: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ meta: { 'api-version': '1.1', '_last-serial': 7 }, name: 'demo', ...extra, files });
const goodFile = { filename: 'demo-1.0.tar.gz', url: '../../f/demo-1.0.tar.gz', hashes: { sha256: H }, size: 10, yanked: false, 'requires-python': '>=3.8' };

describe('when a page arrives in pieces', () => {
  it('reads PEP 691 JSON fed one byte at a time as it reads it whole (escapes, multi-byte text, fields it drops)', () => {
    const text =
      '{"meta":{"_last-serial":1,"api-version":"1.1"},"name":"d\\u00e9mo","versions":["1.0",{"x":[1,-2.5e-3,true,null]}],' +
      ` "files" : [ {"filename":"demo-1.0.tar.gz","url":"https://f.example/d\\u00e9mo/demo-1.0.tar.gz","hashes":{"sha256":"${H}","md5":"00"},` +
      '"requires-python":"\\u003e=3.8","size":0,"yanked":"broken \\ud83d\\ude00 — é\\n","upload-time":"2024-01-01T00:00:00Z","core-metadata":{"sha256":"x"},"provenance":null},\n' +
      '{"filename":"demo-1.1.tar.gz","url":"/abs/demo-1.1.tar.gz","hashes":{},"yanked":true,"x-🙂":"🙂🙂"},' +
      '{"filename":"demo-1.2.zip","url":"demo-1.2.zip","hashes":{"sha512":"ff"},"size":12345678901}]}\n';
    const whole = parseJsonPage(text, PAGE, quiet);
    assert.equal(whole.files.length, 3);
    assert.deepEqual(whole.files[0], {
      filename: 'demo-1.0.tar.gz',
      url: 'https://f.example/d%C3%A9mo/demo-1.0.tar.gz',
      hash: { kind: 'sha256', sha256: H },
      size: 0,
      yanked: true,
      yankedReason: 'broken \u{1f600} — é\n',
      requiresPython: '>=3.8',
    });
    assert.deepEqual(byteByByte(new JsonPageReader(PAGE, quiet), text), whole);
  });

  it('reads PEP 503 HTML fed one byte at a time as it reads it whole (comments, script, entities, base)', () => {
    const text =
      '<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.0"><base href="https://cdn.example/pkgs/">' +
      '<script>document.write("<a href=no.tar.gz>")</SCRIPT ></head><body><!-- <a href="no-1.0.tar.gz"> -- > still comment -->' +
      `<a href="demo-1.0.tar.gz#sha256=${H}" data-yanked="broken — é" data-requires-python="&gt;=3.8" title='t&amp;t'>demo-1.0.tar.gz</a>\n` +
      '<A HREF=/abs/d%C3%A9mo-1.1.tar.gz#md5=00 data-yanked>x</A><a href="demo-1.2.zip">🙂</a></body></html>';
    const whole = parseHtmlPage(text, PAGE, quiet);
    assert.deepEqual(
      whole.files.map((f) => [f.filename, f.url, f.hash.kind, f.yanked, f.yankedReason, f.requiresPython]),
      [
        ['demo-1.0.tar.gz', 'https://cdn.example/pkgs/demo-1.0.tar.gz', 'sha256', true, 'broken — é', '>=3.8'],
        ['démo-1.1.tar.gz', 'https://cdn.example/abs/d%C3%A9mo-1.1.tar.gz', 'other', true, null, null],
        ['demo-1.2.zip', 'https://cdn.example/pkgs/demo-1.2.zip', 'absent', false, null, null],
      ],
    );
    assert.deepEqual(byteByByte(new HtmlPageReader(PAGE, quiet), text), whole);
  });

  it('checks the API version when the document is whole, wherever meta comes', () => {
    const late = `{"files":[],"meta":{"api-version":"2.0"}}`;
    throwsWith(() => byteByByte(new JsonPageReader(PAGE, quiet), late), 'INDEX_API_UNSUPPORTED');
    // Malformed after a refused version: malformed, as when the page was read whole.
    throwsWith(() => parseJsonPage('{"meta":{"api-version":"2.0"},"files":[', PAGE, quiet), 'INDEX_ERROR');
    throwsWith(() => parseHtmlPage('<meta name="pypi:repository-version" content="2.0"><a href="x', PAGE, quiet), 'INDEX_ERROR');
    throwsWith(() => parseHtmlPage('<meta name="pypi:repository-version" content="2.0"><a href="x">', PAGE, quiet), 'INDEX_API_UNSUPPORTED');
  });
});

describe('when a JSON page is malformed or hostile', () => {
  const refused = (text: string) => throwsWith(() => parseJsonPage(text, PAGE, quiet), 'INDEX_ERROR');

  it('refuses the page cut at any point (INDEX_ERROR)', () => {
    const text = jsonPage([goodFile, { ...goodFile, filename: 'demo-1.1.tar.gz', yanked: 'a "reason" \u00e9' }]);
    for (let cut = 0; cut < text.length; cut++) refused(text.slice(0, cut));
    assert.equal(parseJsonPage(text, PAGE, quiet).files.length, 2);
  });

  it('refuses values nested a million deep, read or dropped, without running out of stack (INDEX_ERROR)', () => {
    const deep = (open: string, close: string) => open.repeat(1e6) + close.repeat(1e6);
    refused(jsonPage(['PLACE']).replace('"PLACE"', deep('[', ']')));
    refused(jsonPage([goodFile]).replace('"name":"demo"', `"name":${deep('[', ']')}`));
    refused(jsonPage([goodFile]).replace('"name":"demo"', `"name":${'{"a":'.repeat(1e6)}1${'}'.repeat(1e6)}`));
  });

  it('refuses a field Sealed reads that is huge, and drops a huge field it does not read', () => {
    const huge = 'u'.repeat(2 * 1024 * 1024);
    refused(jsonPage([{ ...goodFile, url: huge }]));
    refused(jsonPage([{ ...goodFile, hashes: { sha256: H, other: huge } }]));
    refused(jsonPage([goodFile], { meta: { 'api-version': '1.1', pad: huge } }));
    const dropped = parseJsonPage(jsonPage([{ ...goodFile, 'upload-time': 'z'.repeat(50 * 1024 * 1024) }], { versions: [huge, huge] }), PAGE, quiet);
    assert.equal(dropped.files[0]!.url, 'https://index.example/f/demo-1.0.tar.gz');
  });

  it('refuses a key that appears twice, at any depth and of any length (INDEX_ERROR)', () => {
    const file = JSON.stringify(goodFile);
    refused(`{"meta":{"api-version":"1.1"},"files":[${file}],"files":[]}`);
    refused(`{"meta":{"api-version":"1.1"},"meta":{"api-version":"1.0"},"files":[${file}]}`);
    refused(`{"meta":{"api-version":"1.1"},"files":[${file.replace('"size":10', '"size":10,"url":"https://elsewhere.example/x.tar.gz"')}]}`);
    refused(`{"meta":{"api-version":"1.1"},"files":[],"x":[{"deep":{"k":1,"k":2}}]}`);
    refused(`{"meta":{"api-version":"1.1"},"files":[],"x":{"\\u006b":1,"k":2}}`);
    const long = 'k'.repeat(5000);
    refused(`{"meta":{"api-version":"1.1"},"files":[],"x":{"${long}":1,"${long}":2}}`);
    assert.equal(parseJsonPage(`{"meta":{"api-version":"1.1"},"files":[],"x":{"${long}":1,"${long}x":2}}`, PAGE, quiet).files.length, 0);
  });

  it('refuses an object of more keys than any page needs (INDEX_ERROR)', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `"k${i}":0`).join(',');
    refused(`{"meta":{"api-version":"1.1"},"files":[],"x":{${keys}}}`);
  });

  it('refuses bad escapes, lone surrogates and raw control characters, in fields read or dropped (INDEX_ERROR)', () => {
    for (const bad of ['\\x41', '\\u12G4', '\\u12', '\\ud800', '\\udc00', '\\ud800\\u0041', '\\ud83d\\n', '\u0001', '\\']) {
      refused(jsonPage([{ ...goodFile, filename: 'FILENAME' }]).replace('FILENAME', bad));
      refused(jsonPage([goodFile], { other: 'OTHER' }).replace('OTHER', bad));
    }
    for (const bad of ['01', '1.', '-', '1e', '+1', '.5', 'NaN', 'tru', 'nulll']) refused(jsonPage([{ ...goodFile, size: 'SIZE' }]).replace('"SIZE"', bad));
    for (const bad of ['[1,]', '{"a":1,}', '{"a" 1}', '[1 2]', '{1:2}']) refused(jsonPage([goodFile], { x: 'X' }).replace('"X"', bad));
    refused(jsonPage([goodFile]) + ' x');
    refused('\ufeff' + jsonPage([goodFile]));
  });

  it('keeps "__proto__" a member, as JSON.parse does, never the prototype of what it builds', () => {
    const text = jsonPage([{ ...goodFile, hashes: 'HASHES' }]).replace('"HASHES"', `{"__proto__":{"sha256":"${H}"}}`);
    const e = refused(text);
    assert.deepEqual(e.details.found, ['files[0].hashes.__proto__ is not a string']);
  });

  it('reports at most a hundred problems, and how many more there were', () => {
    const e = refused(jsonPage(Array.from({ length: 500 }, () => 'not a file')));
    assert.equal((e.details.found as string[]).length, 100);
    assert.match(e.message, /and 400 more/);
  });
});

describe('when an HTML page is malformed or hostile', () => {
  const refused = (text: string) => throwsWith(() => parseHtmlPage(text, PAGE, quiet), 'INDEX_ERROR');

  it('refuses a tag, value, comment or script cut before its end (INDEX_ERROR)', () => {
    for (const bad of ['<a href="x', "<a href='x", '<a href=x', '<a', '<!-- x', '<!doctype', '<script>x', '<a href="x.tar.gz">x</a><!--']) refused(bad);
  });

  it('refuses a huge attribute Sealed reads, and drops huge ones it does not read', () => {
    const huge = 'u'.repeat(2 * 1024 * 1024);
    refused(`<a href="${huge}">x</a>`);
    refused(`<a href="x.tar.gz" data-requires-python=${huge}>x</a>`);
    const page = parseHtmlPage(`<p class="${huge}"><a title="${huge}" href="demo-1.0.tar.gz#sha256=${H}">${huge}</a><!-- ${huge} --><script>${huge}</script>`, PAGE, quiet);
    assert.deepEqual(
      page.files.map((f) => f.url),
      ['https://index.example/simple/demo/demo-1.0.tar.gz'],
    );
  });
});

describe('when a page is hostile to whoever reads the messages', () => {
  it('escapes the page text quoted in a refusal, so a key cannot fake a line', () => {
    const e = throwsWith(() => parseJsonPage('{"meta":{"api-version":"1.1"},"files":[],"x":{"\\n\\u001b[2Jok":1,"\\n\\u001b[2Jok":2}}', PAGE, quiet), 'INDEX_ERROR');
    assert.doesNotMatch(e.message, /[\n\u001b]/);
    const h = throwsWith(() => parseJsonPage(jsonPage([{ ...goodFile, hashes: { 'a\nb\u001b': 1 } }]), PAGE, quiet), 'INDEX_ERROR');
    assert.doesNotMatch(h.message, /[\n\u001b]/);
  });

  it('escapes a yanked reason in the warning, newlines included', () => {
    const page = parseJsonPage(jsonPage([{ ...goodFile, yanked: 'broken\n\u001b[2Jok: all seals verified' }]), PAGE, quiet);
    const warnings: string[] = [];
    selectSdist('demo', page.files, parseRequirement('demo==1.0'), undefined, (m) => warnings.push(m));
    assert.equal(warnings.length, 1);
    assert.doesNotMatch(warnings[0]!, /[\n\u001b]/);
    assert.match(warnings[0]!, /broken\\nok|broken\\n\\x1b/);
  });

  it(`refuses a page of more than ${MAX_LISTED_FILES} files, in either format (INDEX_ERROR)`, () => {
    const tiny = '{"filename":"a","url":"a"}';
    throwsWith(() => parseJsonPage(`{"meta":{"api-version":"1.1"},"files":[${Array(MAX_LISTED_FILES + 1).fill(tiny).join(',')}]}`, PAGE, quiet), 'INDEX_ERROR');
    throwsWith(() => parseHtmlPage('<a href=a>'.repeat(MAX_LISTED_FILES + 1), PAGE, quiet), 'INDEX_ERROR');
    assert.equal(parseHtmlPage('<a href=a>'.repeat(1000), PAGE, quiet).files.length, 1000);
  });
});

describe('when the page is read over HTTP', () => {
  let server: Server;
  let url: string;
  const body = Buffer.from(jsonPage([goodFile, { ...goodFile, filename: 'demo-1.1.tar.gz', url: '../../f/demo-1.1.tar.gz' }]));
  before(async () => {
    server = createServer((req, res) => {
      const gz = req.url === '/gz/demo/';
      res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json', ...(gz ? { 'content-encoding': 'gzip' } : {}) });
      if (gz) {
        res.end(gzipSync(Buffer.concat([body.subarray(0, body.length - 1), Buffer.from(`,"pad":"${'z'.repeat(1 << 20)}"}`)])));
        return;
      }
      // One byte per write: the reader sees the page in the smallest pieces the socket delivers.
      let i = 0;
      const next = (): void => {
        if (i >= body.length) {
          res.end();
          return;
        }
        res.write(body.subarray(i, i + 1));
        i++;
        setImmediate(next);
      };
      next();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('reads a page sent one byte per write', async () => {
    const http = new HttpClient();
    const c = await findSdist(`${url}/simple/`, 'demo', { http, warn: quiet });
    http.close();
    assert.equal(c.version, '1.1');
    assert.equal(c.sha256, H);
  });

  it('stops at the size cap, counted after decompression (INDEX_ERROR)', async () => {
    const small = new HttpClient({ policy: { maxPageBytes: 512 * 1024, attempts: 1 } });
    await rejectsWith(findSdist(`${url}/gz/`, 'demo', { http: small, warn: quiet }), 'INDEX_ERROR');
    small.close();
    const roomy = new HttpClient({ policy: { maxPageBytes: 2 * 1024 * 1024, attempts: 1 } });
    assert.equal((await findSdist(`${url}/gz/`, 'demo', { http: roomy, warn: quiet })).version, '1.1');
    roomy.close();
  });
});

/** Reads the big page in a child whose heap is capped; resolves with its exit and its one JSON line. */
function readInChild(mode: 'stream' | 'whole', pageUrl: string, heapMiB: number): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${heapMiB}`, join(repoRoot(), 'dist', 'test', 'helpers', 'page-child.js'), mode, pageUrl], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (err = (err + c).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
}

for (const format of ['json', 'html'] as const) {
  describe(`when a ${format.toUpperCase()} page is 200 MiB`, () => {
    let big: BigPageServer;
    before(async () => {
      big = await startBigPageServer({ kind: 'padded', format, bytes: 200 * 1024 * 1024 });
    });
    after(() => big.close());

    if (format === 'json') {
      it('read whole, it does not fit in a 128 MiB heap (what the test below would see if the page were buffered)', async () => {
        const r = await readInChild('whole', big.pageUrl, 128);
        assert.notEqual(r.code, 0, `the whole-page read fit after all: ${r.out}`);
        assert.match(r.err, /heap|memory|allocation/i);
      });
    }

    it('is read as it arrives within a 128 MiB heap, every file listed', async () => {
      assert.ok(big.size >= 200 * 1024 * 1024);
      const r = await readInChild('stream', big.pageUrl, 128);
      assert.equal(r.code, 0, r.err);
      const got = JSON.parse(r.out) as { count: number; first: { filename: string; url: string; sha256: string }; last: { filename: string; sha256: string } };
      assert.equal(got.count, big.files);
      const first = expectedFile('padded', 0);
      const last = expectedFile('padded', big.files - 1);
      assert.deepEqual(got.first, { filename: first.filename, url: first.url, sha256: first.sha256 });
      assert.equal(got.last.filename, last.filename);
      assert.equal(got.last.sha256, last.sha256);
    });
  });
}
