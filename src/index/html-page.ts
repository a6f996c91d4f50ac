// PEP 503 HTML, read as it arrives: one anchor per file, the hash in the URL fragment, the PEP 592/503
// data attributes. Only <a>, <base> and <meta> are reported by the scanner, with the attributes read
// here. Checks of the API version wait until the whole page has scanned, so that a page that is also
// malformed is refused as malformed, as when it was read whole.

import { MalformedHtml, TagScanner, type Tag } from './html.js';
import { MAX_LISTED_FILES, checkApiVersion, hashFrom, indexError, resolveFileUrl, tooManyFiles, type HashState, type ListedFile, type ProjectPage } from './listing.js';

/** The longest attribute value kept (a URL, a requires-python): far beyond any real page. */
export const MAX_ATTRIBUTE_CHARS = 1 << 16;

const KEPT: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['a', new Set(['href', 'data-yanked', 'data-requires-python'])],
  ['base', new Set(['href'])],
  ['meta', new Set(['name', 'content'])],
]);

/** Warnings held until the page is whole; a page repeating its version tag a million times gets a few. */
const MAX_WARNINGS = 10;

export class HtmlPageReader {
  private readonly scanner: TagScanner;
  private apiVersion = '1.0';
  private base: string;
  private sawBase = false;
  private readonly files: ListedFile[] = [];
  private versionError: unknown = null;
  private readonly warnings: string[] = [];

  constructor(
    private readonly pageUrl: string,
    private readonly warn: (msg: string) => void,
  ) {
    this.base = pageUrl;
    this.scanner = new TagScanner((t) => this.tag(t), {
      report: (name) => KEPT.has(name),
      keep: (name, attr) => KEPT.get(name)?.has(attr) ?? false,
      maxValue: MAX_ATTRIBUTE_CHARS,
    });
  }

  write(text: string): void {
    try {
      this.scanner.write(text);
    } catch (e) {
      throw this.refusal(e);
    }
  }

  end(): ProjectPage {
    try {
      this.scanner.end();
    } catch (e) {
      throw this.refusal(e);
    }
    for (const w of this.warnings) this.warn(w);
    if (this.versionError) throw this.versionError;
    return { url: this.pageUrl, format: 'html', apiVersion: this.apiVersion, files: this.files };
  }

  private refusal(e: unknown): unknown {
    if (e instanceof MalformedHtml) return indexError(this.pageUrl, `its HTML is malformed (${e.message} at offset ${e.offset})`);
    return e;
  }

  private tag(tag: Tag): void {
    // After a refused version nothing more is read, as when the first refusal stopped the reading.
    if (this.versionError) return;
    if (tag.name === 'meta' && tag.attrs.get('name') === 'pypi:repository-version') {
      this.apiVersion = tag.attrs.get('content') ?? '';
      try {
        checkApiVersion(this.apiVersion, this.pageUrl, (w) => {
          if (this.warnings.length < MAX_WARNINGS) this.warnings.push(w);
        });
      } catch (e) {
        this.versionError = e;
        this.files.length = 0;
      }
    } else if (tag.name === 'base' && !this.sawBase && tag.attrs.has('href')) {
      this.sawBase = true;
      const b = resolveFileUrl(tag.attrs.get('href')!, this.pageUrl);
      if (b) this.base = b.href;
    } else if (tag.name === 'a' && tag.attrs.has('href')) {
      this.anchor(tag);
    }
  }

  private anchor(tag: Tag): void {
    const href = tag.attrs.get('href')!.trim();
    let full: URL;
    try {
      full = new URL(href, this.base);
    } catch {
      return; // pip skips links it cannot parse; so does Sealed
    }
    const fragment = full.hash.replace(/^#/, '');
    full.hash = '';
    const last = full.pathname.split('/').pop() ?? '';
    let filename: string;
    try {
      filename = decodeURIComponent(last);
    } catch {
      return;
    }
    if (!filename) return;
    let hash: HashState = { kind: 'absent' };
    const hm = /^([a-z0-9_]+)=(.*)$/i.exec(fragment);
    if (hm) hash = hashFrom(hm[1]!.toLowerCase(), hm[2]!);
    if (this.files.length >= MAX_LISTED_FILES) throw tooManyFiles(this.pageUrl);
    const yanked = tag.attrs.has('data-yanked');
    const rp = tag.attrs.get('data-requires-python');
    this.files.push({
      filename,
      url: full.href,
      hash,
      size: null,
      yanked,
      yankedReason: yanked && tag.attrs.get('data-yanked') ? tag.attrs.get('data-yanked')! : null,
      requiresPython: rp && rp.trim() !== '' ? rp : null,
    });
  }
}

export function parseHtmlPage(text: string, pageUrl: string, warn: (msg: string) => void): ProjectPage {
  const reader = new HtmlPageReader(pageUrl, warn);
  reader.write(text);
  return reader.end();
}
