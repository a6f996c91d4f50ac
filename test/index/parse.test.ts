import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { scanTags, decodeEntities } from '../../src/index/html.js';
import { parseHtmlPage, parseJsonPage, type ListedFile } from '../../src/index/page.js';
import { selectSdist } from '../../src/index/select.js';
import { parseRequirement, isPinned, specifierMentionsPrerelease } from '../../src/index/requirement.js';
import { pipConfigFiles } from '../../src/index/config.js';
import { parseIni } from '../../src/index/ini.js';
import { isSealedError } from '../../src/errors.js';

const H = 'a'.repeat(64);
const quiet = () => undefined;

describe('the HTML scanner', () => {
  it('reads start tags, quoted and unquoted attributes and entities', () => {
    const tags = scanTags('<!-- <a href="no"> --><A HREF=x.tar.gz#sha256=AB data-yanked>t</A><a href=\'y&amp;z\' data-requires-python="&gt;=3.8">');
    assert.deepEqual(
      tags.map((t) => [t.name, Object.fromEntries(t.attrs)]),
      [
        ['a', { href: 'x.tar.gz#sha256=AB', 'data-yanked': '' }],
        ['a', { href: 'y&z', 'data-requires-python': '>=3.8' }],
      ],
    );
  });
  it('skips script contents', () => {
    assert.deepEqual(
      scanTags('<script>document.write("<a href=x>")</script><p>').map((t) => t.name),
      ['script', 'p'],
    );
  });
  it('refuses a tag or comment that never ends', () => {
    assert.throws(() => scanTags('<a href="x'));
    assert.throws(() => scanTags('<a href=x'));
    assert.throws(() => scanTags('<!-- forever'));
  });
  it('decodes numeric entities', () => {
    assert.equal(decodeEntities('&#60;&#x3e;&lt;&unknown;'), '<><&unknown;');
  });
});

describe('reading project pages', () => {
  it('reads PEP 503 HTML: base href, hash fragments, yanked and requires-python', () => {
    const page = parseHtmlPage(
      `<html><head><base href="https://cdn.example/pkgs/"><meta name="pypi:repository-version" content="1.0"></head>
       <a href="demo-1.0.tar.gz#sha256=${H.toUpperCase()}" data-yanked="" data-requires-python="&gt;=3.8">demo-1.0.tar.gz</a>
       <a href="/abs/demo-1.1.tar.gz#md5=00">demo-1.1.tar.gz</a>
       <a href="demo-1.2.tar.gz">demo-1.2.tar.gz</a>`,
      'https://index.example/simple/demo/',
      quiet,
    );
    assert.deepEqual(
      page.files.map((f) => [f.filename, f.url, f.hash.kind, f.yanked, f.requiresPython]),
      [
        ['demo-1.0.tar.gz', 'https://cdn.example/pkgs/demo-1.0.tar.gz', 'sha256', true, '>=3.8'],
        ['demo-1.1.tar.gz', 'https://cdn.example/abs/demo-1.1.tar.gz', 'other', false, null],
        ['demo-1.2.tar.gz', 'https://cdn.example/pkgs/demo-1.2.tar.gz', 'absent', false, null],
      ],
    );
    assert.equal(page.files[0]!.hash.kind === 'sha256' && page.files[0]!.hash.sha256, H);
  });
  it('reads PEP 691 JSON as PyPI serves it (null requires-python, yanked false)', () => {
    const page = parseJsonPage(
      JSON.stringify({
        meta: { 'api-version': '1.1', '_last-serial': '1' },
        name: 'demo',
        versions: ['1.0'],
        files: [{ filename: 'demo-1.0.tar.gz', url: '../../f/demo-1.0.tar.gz', hashes: { sha256: H }, 'requires-python': null, size: 10, yanked: false, 'upload-time': 'x' }],
      }),
      'https://index.example/simple/demo/',
      quiet,
    );
    assert.deepEqual(page.files[0], {
      filename: 'demo-1.0.tar.gz',
      url: 'https://index.example/f/demo-1.0.tar.gz',
      hash: { kind: 'sha256', sha256: H },
      size: 10,
      yanked: false,
      yankedReason: null,
      requiresPython: null,
    });
  });
  it('collects every ill-typed JSON field into one INDEX_ERROR', () => {
    const body = JSON.stringify({ meta: { 'api-version': '1.0' }, files: [{ filename: 1, url: 'x', size: -1 }, 'nope'] });
    assert.throws(
      () => parseJsonPage(body, 'https://i.example/simple/demo/', quiet),
      (e) => isSealedError(e, 'INDEX_ERROR') && Array.isArray(e.details.found) && e.details.found.length === 3,
    );
  });
});

function listed(filename: string, extra: Partial<ListedFile> = {}): ListedFile {
  return { filename, url: `https://f.example/${filename}`, hash: { kind: 'sha256', sha256: H }, size: null, yanked: false, yankedReason: null, requiresPython: null, ...extra };
}

describe('choosing the sdist', () => {
  const pick = (req: string, files: ListedFile[], py?: string) => selectSdist('demo', files, parseRequirement(req), py, quiet);
  it('treats 1.0 and 1.0.0 as one version', () => {
    assert.equal(pick('demo==1.0.0', [listed('demo-1.0.tar.gz')]).version, '1.0');
  });
  it('supports === as an exact string match', () => {
    assert.equal(pick('demo===1.0', [listed('demo-1.0.tar.gz'), listed('demo-1.0.0.tar.gz')]).file.filename, 'demo-1.0.tar.gz');
    assert.equal(pick('demo===1.0.0', [listed('demo-1.0.tar.gz'), listed('demo-1.0.0.tar.gz')]).file.filename, 'demo-1.0.0.tar.gz');
  });
  it('orders by PEP 440, not by text', () => {
    assert.equal(pick('demo', [listed('demo-1.9.tar.gz'), listed('demo-1.10.tar.gz'), listed('demo-1.10.post1.tar.gz'), listed('demo-1.11.dev0.tar.gz')]).version, '1.10.post1');
  });
  it('ignores a requires-python it cannot parse, as pip does', () => {
    assert.equal(pick('demo', [listed('demo-1.0.tar.gz', { requiresPython: '>=3.6,' })], '3.11.7').version, '1.0');
  });
  it('refuses one file listed twice with different hashes (INDEX_ERROR)', () => {
    assert.throws(
      () => pick('demo', [listed('demo-1.0.tar.gz'), listed('demo-1.0.tar.gz', { hash: { kind: 'sha256', sha256: 'b'.repeat(64) } })]),
      (e) => isSealedError(e, 'INDEX_ERROR'),
    );
  });
  it('does not fall back to an older version when the newest sdist has no hash (NO_INDEX_HASH)', () => {
    assert.throws(() => pick('demo', [listed('demo-1.0.tar.gz'), listed('demo-2.0.tar.gz', { hash: { kind: 'absent' } })]), (e) => isSealedError(e, 'NO_INDEX_HASH'));
  });
  it('prefers a hashed file of the chosen version over an unhashed one', () => {
    assert.equal(pick('demo', [listed('demo-1.0.tar.gz', { hash: { kind: 'empty' } }), listed('demo-1.0.zip')]).file.filename, 'demo-1.0.zip');
  });
});

describe('requirements (PEP 508 subset)', () => {
  it('parses names, extras and specifiers', () => {
    assert.deepEqual(parseRequirement(' Foo.Bar[x, y] >=1.0, <2 '), { name: 'Foo.Bar', normalized: 'foo-bar', extras: ['x', 'y'], specifier: '>=1.0, <2' });
    assert.equal(parseRequirement('six (==1.16.0)').specifier, '==1.16.0');
  });
  it('knows a pin', () => {
    assert.equal(isPinned('==1.0'), true);
    assert.equal(isPinned('===1.0'), true);
    assert.equal(isPinned('==1.*'), false);
    assert.equal(isPinned('>=1,==1.0'), false);
  });
  it('knows when a specifier names a pre-release', () => {
    assert.equal(specifierMentionsPrerelease('>=1.0b1,<2'), true);
    assert.equal(specifierMentionsPrerelease('!=2.0b1'), false);
    assert.equal(specifierMentionsPrerelease('>=1'), false);
  });
});

describe("pip's configuration files on other platforms", () => {
  it('lists the macOS files', () => {
    const files = pipConfigFiles({ HOME: '/Users/me' }, { platform: 'darwin', etcDir: '/etc' }).map((f) => f.path);
    assert.deepEqual(files, ['/Library/Application Support/pip/pip.conf', '/Users/me/.pip/pip.conf', '/Users/me/.config/pip/pip.conf']);
  });
  it('reads an INI file the way configparser does', () => {
    const s = parseIni('[global]\nKey_One = a\n  b\n\n  c\nkey2: x = y\n');
    assert.deepEqual(Object.fromEntries(s.get('global')!), { key_one: 'a\nb\n\nc', key2: 'x = y' });
  });
});
