// PEP 691 JSON, read as it arrives: of each file only the fields Sealed uses are built (filename, url,
// hashes, size, yanked, requires-python), and of the rest of the page only meta; everything else is
// checked as strict JSON and dropped. Every field read is type-checked and every problem reported at
// once, after the whole document has parsed, in the order a whole-document read would find them.

import { JsonStreamError, JsonStreamParser, type JsonKind, type JsonMode, type JsonVisitor } from '../core/json-stream.js';
import { escapeText } from '../core/text.js';
import { MAX_LISTED_FILES, checkApiVersion, hashFrom, indexError, resolveFileUrl, tooManyFiles, type HashState, type ListedFile, type ProjectPage } from './listing.js';

/** Problems kept for the error's details; the rest are counted. */
const MAX_PROBLEMS = 100;

const FIELDS = new Set(['filename', 'url', 'hashes', 'size', 'yanked', 'requires-python']);

type Role = 'root' | 'files' | 'file';

/** The fields read of one file, as they came (undefined: absent). */
class RawFile {
  filename: unknown = undefined;
  url: unknown = undefined;
  hashes: unknown = undefined;
  size: unknown = undefined;
  yanked: unknown = undefined;
  requiresPython: unknown = undefined;
  constructor(readonly index: number) {}

  set(key: string, v: unknown): void {
    switch (key) {
      case 'filename':
        this.filename = v;
        break;
      case 'url':
        this.url = v;
        break;
      case 'hashes':
        this.hashes = v;
        break;
      case 'size':
        this.size = v;
        break;
      case 'yanked':
        this.yanked = v;
        break;
      case 'requires-python':
        this.requiresPython = v;
        break;
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Pep691Visitor implements JsonVisitor {
  rootIsObject = false;
  meta: unknown = undefined;
  filesIsArray = false;
  readonly files: ListedFile[] = [];
  readonly problems: string[] = [];
  problemCount = 0;
  private readonly roles: Role[] = [];
  private file: RawFile | null = null;

  constructor(private readonly pageUrl: string) {}

  enter(kind: JsonKind, key: string | null, index: number): JsonMode {
    const role = this.roles[this.roles.length - 1];
    if (role === undefined) {
      if (kind !== 'object') return 'skip';
      this.rootIsObject = true;
      this.roles.push('root');
      return 'descend';
    }
    if (role === 'root') {
      if (key === 'meta') return 'capture';
      if (key !== 'files') return 'skip';
      this.filesIsArray = kind === 'array';
      if (!this.filesIsArray) return 'skip';
      this.roles.push('files');
      return 'descend';
    }
    if (role === 'files') {
      if (kind !== 'object') {
        this.problem(`files[${index}] is not an object`);
        return 'skip';
      }
      this.file = new RawFile(index);
      this.roles.push('file');
      return 'descend';
    }
    return key !== null && FIELDS.has(key) ? 'capture' : 'skip';
  }

  value(v: unknown, key: string | null): void {
    const role = this.roles[this.roles.length - 1];
    if (role === 'root' && key === 'meta') this.meta = v;
    else if (role === 'file' && key !== null) this.file!.set(key, v);
  }

  leave(): void {
    if (this.roles.pop() === 'file') {
      this.finishFile(this.file!);
      this.file = null;
    }
  }

  private problem(p: string): void {
    this.problemCount++;
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(p);
    // A page with a problem is refused whole: the files read so far are no longer needed.
    this.files.length = 0;
  }

  private finishFile(raw: RawFile): void {
    const at = `files[${raw.index}]`;
    const { filename, url, hashes, size, yanked, requiresPython } = raw;
    const before = this.problemCount;
    if (typeof filename !== 'string' || filename === '') this.problem(`${at}.filename is not a string`);
    if (typeof url !== 'string' || url === '') this.problem(`${at}.url is not a string`);
    if (hashes !== undefined && !isObject(hashes)) this.problem(`${at}.hashes is not an object`);
    if (isObject(hashes)) {
      for (const [k, v] of Object.entries(hashes)) if (typeof v !== 'string') this.problem(`${at}.hashes.${escapeText(k.slice(0, 80))} is not a string`);
    }
    if (size !== undefined && size !== null && !(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0)) {
      this.problem(`${at}.size is not a non-negative integer`);
    }
    if (yanked !== undefined && typeof yanked !== 'boolean' && typeof yanked !== 'string') this.problem(`${at}.yanked is not a boolean or string`);
    if (requiresPython !== undefined && requiresPython !== null && typeof requiresPython !== 'string') {
      this.problem(`${at}.requires-python is not a string`);
    }
    if (this.problemCount > before) return;
    const abs = resolveFileUrl(url as string, this.pageUrl);
    if (!abs) {
      this.problem(`${at}.url is not a URL`);
      return;
    }
    if (this.problemCount > 0) return;
    if (this.files.length >= MAX_LISTED_FILES) throw tooManyFiles(this.pageUrl);
    let hash: HashState;
    if (!isObject(hashes)) hash = { kind: 'absent' };
    else if (Object.keys(hashes).length === 0) hash = { kind: 'empty' };
    else if (typeof hashes.sha256 === 'string') hash = hashFrom('sha256', hashes.sha256);
    else hash = { kind: 'other', algorithms: Object.keys(hashes) };
    this.files.push({
      filename: filename as string,
      url: abs.href,
      hash,
      size: typeof size === 'number' ? size : null,
      yanked: yanked === true || typeof yanked === 'string',
      yankedReason: typeof yanked === 'string' && yanked !== '' ? yanked : null,
      requiresPython: typeof requiresPython === 'string' && requiresPython.trim() !== '' ? requiresPython : null,
    });
  }
}

/** One PEP 691 page: write() its text as it arrives, then end() for the files it lists. */
export class JsonPageReader {
  private readonly visitor: Pep691Visitor;
  private readonly parser: JsonStreamParser;

  constructor(
    private readonly pageUrl: string,
    private readonly warn: (msg: string) => void,
  ) {
    this.visitor = new Pep691Visitor(pageUrl);
    this.parser = new JsonStreamParser(this.visitor);
  }

  write(text: string): void {
    try {
      this.parser.write(text);
    } catch (e) {
      throw this.refusal(e);
    }
  }

  end(): ProjectPage {
    try {
      this.parser.end();
    } catch (e) {
      throw this.refusal(e);
    }
    const v = this.visitor;
    const pageUrl = this.pageUrl;
    if (!v.rootIsObject) throw indexError(pageUrl, 'its JSON is not an object');
    const meta = v.meta;
    if (!isObject(meta) || typeof meta['api-version'] !== 'string') {
      throw indexError(pageUrl, 'meta.api-version is missing', { expected: 'meta.api-version', found: meta === undefined ? null : meta });
    }
    checkApiVersion(meta['api-version'], pageUrl, this.warn);
    if (!v.filesIsArray) throw indexError(pageUrl, 'it has no files list', { where: 'files' });
    if (v.problemCount > 0) {
      const more = v.problemCount > v.problems.length ? ` (and ${v.problemCount - v.problems.length} more)` : '';
      throw indexError(pageUrl, v.problems.slice(0, 10).join('; ') + more, { found: v.problems });
    }
    return { url: pageUrl, format: 'json', apiVersion: meta['api-version'], files: v.files };
  }

  private refusal(e: unknown): unknown {
    if (!(e instanceof JsonStreamError)) return e;
    // The message and path quote the page (a key, a character): escaped, so they cannot fake a line.
    return indexError(this.pageUrl, `its JSON does not parse (${escapeText(e.message)}, at ${escapeText(e.path)}, character ${e.offset})`, { found: e.problem });
  }
}

export function parseJsonPage(text: string, pageUrl: string, warn: (msg: string) => void): ProjectPage {
  const reader = new JsonPageReader(pageUrl, warn);
  reader.write(text);
  return reader.end();
}
