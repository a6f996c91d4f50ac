import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveIndexConfig } from '../../src/index/index.js';
import { pipConfigFiles, resolveIndexConfigFrom, type PipConfigPlaces } from '../../src/index/config.js';
import { isSealedError } from '../../src/errors.js';

// Every test builds its own HOME, XDG folders and /etc stand-in: this machine's real pip configuration
// (extra-index-url, find-links, PIP_* variables) must not leak in.
let root: string;
let n = 0;

interface World {
  env: NodeJS.ProcessEnv;
  places: PipConfigPlaces;
  home: string;
  etc: string;
  xdgHome: string;
  xdgDirs: string;
  write(path: string, text: string): string;
}

function world(extraEnv: NodeJS.ProcessEnv = {}): World {
  const base = join(root, `w${n++}`);
  const home = join(base, 'home');
  const etc = join(base, 'etc');
  const xdgHome = join(base, 'xdg-home');
  const xdgDirs = join(base, 'xdg-dirs');
  for (const d of [home, etc, xdgHome, xdgDirs]) mkdirSync(d, { recursive: true });
  return {
    env: { HOME: home, XDG_CONFIG_HOME: xdgHome, XDG_CONFIG_DIRS: xdgDirs, ...extraEnv },
    places: { platform: 'linux', etcDir: etc },
    home,
    etc,
    xdgHome,
    xdgDirs,
    write(path, text) {
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, text);
      return path;
    },
  };
}

function resolve(w: World, flag?: string, warnings: string[] = []) {
  return resolveIndexConfigFrom(flag, w.env, (m) => warnings.push(m), w.places);
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'sealed-config-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('index URL resolution (SPEC 4)', () => {
  describe('when nothing is configured', () => {
    it('uses https://pypi.org/simple/', () => {
      const c = resolve(world());
      assert.deepEqual(c, { url: 'https://pypi.org/simple/', source: 'default', ignoredExtraIndexes: [] });
    });
    it('does so through the public function when PIP_CONFIG_FILE is /dev/null', () => {
      const w = world({ PIP_CONFIG_FILE: '/dev/null' });
      const c = resolveIndexConfig(undefined, w.env, () => undefined);
      assert.equal(c.source, 'default');
      assert.equal(c.url, 'https://pypi.org/simple/');
    });
  });

  describe('when every source is set', () => {
    const all = () => {
      const w = world({
        SEALED_INDEX_URL: 'https://sealed.example/simple/',
        PIP_INDEX_URL: 'https://pipenv.example/simple/',
      });
      w.write(join(w.xdgHome, 'pip', 'pip.conf'), '[global]\nindex-url = https://pipconf.example/simple/\n');
      return w;
    };
    it('takes --index-url first', () => {
      const c = resolve(all(), 'https://flag.example/simple/');
      assert.equal(c.source, 'flag');
      assert.equal(c.url, 'https://flag.example/simple/');
    });
    it('then SEALED_INDEX_URL', () => {
      const c = resolve(all());
      assert.equal(c.source, 'SEALED_INDEX_URL');
      assert.equal(c.url, 'https://sealed.example/simple/');
    });
    it('then PIP_INDEX_URL', () => {
      const w = all();
      delete w.env.SEALED_INDEX_URL;
      const c = resolve(w);
      assert.equal(c.source, 'PIP_INDEX_URL');
      assert.equal(c.url, 'https://pipenv.example/simple/');
    });
    it("then pip's configured index-url", () => {
      const w = all();
      delete w.env.SEALED_INDEX_URL;
      delete w.env.PIP_INDEX_URL;
      const c = resolve(w);
      assert.equal(c.source, 'pip.conf');
      assert.equal(c.url, 'https://pipconf.example/simple/');
    });
    it('treats empty values as unset', () => {
      const w = all();
      w.env.SEALED_INDEX_URL = '';
      w.env.PIP_INDEX_URL = '  ';
      assert.equal(resolve(w, '').source, 'pip.conf');
    });
  });

  describe("when reading pip's configuration files", () => {
    it('reads the file PIP_CONFIG_FILE names', () => {
      const w = world();
      w.env.PIP_CONFIG_FILE = w.write(join(root, `custom${n}.conf`), '[global]\nindex-url = https://envfile.example/simple/\n');
      assert.deepEqual([resolve(w).source, resolve(w).url], ['pip.conf', 'https://envfile.example/simple/']);
    });
    it('lets PIP_CONFIG_FILE override the global file and skips the user file', () => {
      const w = world();
      w.write(join(w.etc, 'pip.conf'), '[global]\nindex-url = https://etc.example/simple/\n');
      w.write(join(w.xdgHome, 'pip', 'pip.conf'), '[install]\nindex-url = https://user.example/simple/\n');
      w.env.PIP_CONFIG_FILE = w.write(join(root, `custom${n}.conf`), '[global]\nindex-url = https://envfile.example/simple/\n');
      assert.equal(resolve(w).url, 'https://envfile.example/simple/');
      const files = pipConfigFiles(w.env, w.places).map((f) => f.kind);
      assert.ok(!files.includes('user'));
    });
    it('still reads the user file when PIP_CONFIG_FILE names a missing file', () => {
      const w = world({ PIP_CONFIG_FILE: join(root, 'missing.conf') });
      w.write(join(w.xdgHome, 'pip', 'pip.conf'), '[global]\nindex-url = https://user.example/simple/\n');
      assert.equal(resolve(w).url, 'https://user.example/simple/');
    });
    it('reads the user file under XDG_CONFIG_HOME, over the legacy ~/.pip/pip.conf', () => {
      const w = world();
      w.write(join(w.home, '.pip', 'pip.conf'), '[global]\nindex-url = https://legacy.example/simple/\n');
      assert.equal(resolve(w).url, 'https://legacy.example/simple/');
      w.write(join(w.xdgHome, 'pip', 'pip.conf'), '[global]\nindex-url = https://xdg.example/simple/\n');
      assert.equal(resolve(w).url, 'https://xdg.example/simple/');
    });
    it('falls back to ~/.config/pip/pip.conf when XDG_CONFIG_HOME is unset', () => {
      const w = world();
      delete w.env.XDG_CONFIG_HOME;
      w.write(join(w.home, '.config', 'pip', 'pip.conf'), '[global]\nindex_url = https://dotconfig.example/simple/\n');
      assert.equal(resolve(w).url, 'https://dotconfig.example/simple/');
    });
    it('reads global files (XDG_CONFIG_DIRS, then /etc), the user file overriding them', () => {
      const w = world();
      w.write(join(w.xdgDirs, 'pip', 'pip.conf'), '[global]\nindex-url = https://xdgdirs.example/simple/\n');
      assert.equal(resolve(w).url, 'https://xdgdirs.example/simple/');
      w.write(join(w.etc, 'pip.conf'), '[global]\nindex-url = https://etc.example/simple/\n');
      assert.equal(resolve(w).url, 'https://etc.example/simple/');
      w.write(join(w.xdgHome, 'pip', 'pip.conf'), '[global]\nindex-url = https://user.example/simple/\n');
      assert.equal(resolve(w).url, 'https://user.example/simple/');
    });
    it("reads the active virtual environment's pip.conf over the user file", () => {
      const w = world();
      const venv = join(root, `venv${n}`);
      w.env.VIRTUAL_ENV = venv;
      w.write(join(w.xdgHome, 'pip', 'pip.conf'), '[global]\nindex-url = https://user.example/simple/\n');
      w.write(join(venv, 'pip.conf'), '[global]\nindex-url = https://site.example/simple/\n');
      assert.equal(resolve(w).url, 'https://site.example/simple/');
    });
    it('prefers [install] over [global], even from an earlier file', () => {
      const w = world();
      w.write(join(w.etc, 'pip.conf'), '[install]\nindex-url = https://install.example/simple/\n');
      w.write(join(w.xdgHome, 'pip', 'pip.conf'), '[global]\nindex-url = https://global.example/simple/\n');
      assert.equal(resolve(w).url, 'https://install.example/simple/');
    });
    it('loads no file at all when PIP_CONFIG_FILE is /dev/null', () => {
      const w = world({ PIP_CONFIG_FILE: '/dev/null' });
      w.write(join(w.etc, 'pip.conf'), '[global]\nindex-url = https://etc.example/simple/\n');
      assert.equal(resolve(w).source, 'default');
    });
    it('reads continuation lines, comments and [DEFAULT]', () => {
      const w = world();
      w.write(
        join(w.xdgHome, 'pip', 'pip.conf'),
        '# comment\n; another\n[DEFAULT]\nindex-url: https://default.example/simple/\n[global]\ntimeout = 60\nextra-index-url =\n    https://a.example/simple/\n    https://b.example/simple/\n',
      );
      const c = resolve(w);
      assert.equal(c.url, 'https://default.example/simple/');
      assert.deepEqual(c.ignoredExtraIndexes, ['https://a.example/simple/', 'https://b.example/simple/']);
    });
    it('refuses a malformed pip.conf (MALFORMED_INPUT), as pip does', () => {
      const w = world();
      w.write(join(w.xdgHome, 'pip', 'pip.conf'), 'index-url = https://nosection.example/simple/\n');
      assert.throws(() => resolve(w), (e) => isSealedError(e, 'MALFORMED_INPUT'));
    });
  });

  describe('when pip has extra indexes', () => {
    it('ignores them, lists them, and says so once', () => {
      const w = world({ PIP_EXTRA_INDEX_URL: 'https://extra.example/simple/ https://u:secret@more.example/simple/' });
      const warnings: string[] = [];
      const warn = (m: string) => warnings.push(m);
      const a = resolveIndexConfigFrom('https://main.example/simple/', w.env, warn, w.places);
      const b = resolveIndexConfigFrom('https://main.example/simple/', w.env, warn, w.places);
      assert.equal(a.url, 'https://main.example/simple/');
      assert.deepEqual(a.ignoredExtraIndexes, ['https://extra.example/simple/', 'https://more.example/simple/']);
      assert.deepEqual(b.ignoredExtraIndexes, a.ignoredExtraIndexes);
      assert.equal(warnings.filter((m) => m.includes('extra-index-url')).length, 1);
      assert.ok(!warnings.join('\n').includes('secret'));
    });
    it('reads extra-index-url from pip.conf too', () => {
      const w = world();
      w.write(join(w.xdgHome, 'pip', 'pip.conf'), '[global]\nextra-index-url = file:///opt/other/simple\n');
      assert.deepEqual(resolve(w).ignoredExtraIndexes, ['file:///opt/other/simple']);
    });
  });

  describe('when the location is unusual', () => {
    it('turns an absolute folder path into a file:// URL', () => {
      const dir = join(root, 'local index');
      const c = resolve(world(), dir);
      assert.equal(c.url, `${pathToFileURL(dir).href}/`);
    });
    it('accepts file:// URLs', () => {
      assert.equal(resolve(world(), 'file:///srv/simple/').url, 'file:///srv/simple/');
    });
    it('refuses other schemes and relative paths (USAGE)', () => {
      assert.throws(() => resolve(world(), 'ftp://example/simple/'), (e) => isSealedError(e, 'USAGE'));
      assert.throws(() => resolve(world(), 'relative/simple'), (e) => isSealedError(e, 'USAGE'));
    });
    it('warns about a plain-http index that is not local', () => {
      const warnings: string[] = [];
      resolve(world(), 'http://mirror.example/simple/', warnings);
      assert.equal(warnings.length, 1);
      const quiet: string[] = [];
      resolve(world(), 'http://127.0.0.1:8080/simple/', quiet);
      assert.equal(quiet.length, 0);
    });
  });
});
