// Just enough HTML for PEP 503 pages: the start tags and their attributes, entities decoded, read as the
// text arrives. Tolerant of what browsers tolerate (unknown tags, missing end tags, unquoted attributes),
// strict about what makes the page unreadable (a tag, comment or quoted value that never ends): such a
// page is refused rather than half-read. Only the tags and attributes the reader asks for are kept, so a
// page of megabytes of other markup costs the scanner nothing but time.

export interface Tag {
  name: string;
  attrs: Map<string, string>;
}

export class MalformedHtml extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'MalformedHtml';
  }
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z]+);?/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

export interface TagScannerOptions {
  /** Whether an attribute of a tag is kept (default: all); a tag with none kept is still reported. */
  keep?: (tag: string, attr: string) => boolean;
  /** Which tags are reported (default: all). */
  report?: (tag: string) => boolean;
  /** The longest attribute value kept, in characters; a longer one refuses the page. */
  maxValue?: number;
}

// Where the scanner is.
const TEXT = 0;
const LT = 1; // after "<"
const BANG = 2; // after "<!"
const BANG_DASH = 3; // after "<!-"
const COMMENT = 4;
const MARKUP = 5; // "<!...", "<?...", "</..." up to ">"
const NAME = 6;
const BEFORE_ATTR = 7;
const ATTR_NAME = 8;
const AFTER_NAME = 9;
const BEFORE_VALUE = 10;
const QUOTED = 11;
const UNQUOTED = 12;
const RAW = 13; // inside <script> or <style>, up to its end tag

const MAX_NAME = 63; // a tag name is read up to this long; what follows is read as attributes
const MAX_ATTR_NAME = 64; // longer attribute names are never kept, so only their start is held

const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0c || c === 0x0d;
const isLetter = (c: number) => (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
const isNameChar = (c: number) => isLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x3a || c === 0x2d;

/** A fresh flat copy: a slice of a chunk would keep the whole chunk alive. */
function own(s: string): string {
  return s.length < 16 ? s : (' ' + s).slice(1);
}

export class TagScanner {
  private state = TEXT;
  private offset = 0;
  private tagAt = 0;
  private dashes = 0;
  private name = '';
  private reported = false;
  private attrs = new Map<string, string>();
  private attrName = '';
  private keepValue = false;
  private value = '';
  private quote = 0;
  private quoteAt = 0;
  private raw = '';
  private rawMatched = 0;
  private readonly keep: (tag: string, attr: string) => boolean;
  private readonly report: (tag: string) => boolean;
  private readonly maxValue: number;

  constructor(
    private readonly onTag: (tag: Tag) => void,
    opts: TagScannerOptions = {},
  ) {
    this.keep = opts.keep ?? (() => true);
    this.report = opts.report ?? (() => true);
    this.maxValue = opts.maxValue ?? Number.POSITIVE_INFINITY;
  }

  write(s: string): void {
    const n = s.length;
    let i = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      switch (this.state) {
        case TEXT: {
          const lt = s.indexOf('<', i);
          if (lt === -1) {
            i = n;
            break;
          }
          this.tagAt = this.offset + lt;
          this.state = LT;
          i = lt + 1;
          break;
        }
        case LT:
          if (c === 0x21 /* ! */) {
            this.state = BANG;
            i++;
          } else if (c === 0x3f /* ? */ || c === 0x2f /* / */) {
            this.state = MARKUP;
            i++;
          } else if (isLetter(c)) {
            this.name = String.fromCharCode(c | 0x20);
            this.state = NAME;
            i++;
          } else {
            this.state = TEXT; // a lone "<" in text; this character is read again as text
          }
          break;
        case BANG:
        case BANG_DASH:
          if (c === 0x2d /* - */) {
            if (this.state === BANG) this.state = BANG_DASH;
            else {
              this.state = COMMENT;
              this.dashes = 0;
            }
          } else this.state = c === 0x3e ? TEXT : MARKUP;
          i++;
          break;
        case COMMENT:
          for (; i < n; i++) {
            const d = s.charCodeAt(i);
            if (d === 0x2d) this.dashes++;
            else if (d === 0x3e && this.dashes >= 2) {
              this.state = TEXT;
              i++;
              break;
            } else this.dashes = 0;
          }
          break;
        case MARKUP: {
          const gt = s.indexOf('>', i);
          if (gt === -1) i = n;
          else {
            this.state = TEXT;
            i = gt + 1;
          }
          break;
        }
        case NAME:
          if (isNameChar(c) && this.name.length < MAX_NAME) {
            this.name += String.fromCharCode(isLetter(c) ? c | 0x20 : c);
            i++;
          } else {
            this.reported = this.report(this.name);
            this.attrs = new Map();
            this.state = BEFORE_ATTR;
          }
          break;
        case BEFORE_ATTR:
          i++;
          if (isWs(c) || c === 0x2f /* / */ || c === 0x3d /* = : a stray one, skipped as browsers do */) break;
          if (c === 0x3e /* > */) this.endTag();
          else {
            this.attrName = String.fromCharCode(c);
            this.state = ATTR_NAME;
          }
          break;
        case ATTR_NAME:
          if (isWs(c)) {
            this.state = AFTER_NAME;
            i++;
          } else if (c === 0x3d) {
            this.startValue();
            i++;
          } else if (c === 0x3e || c === 0x2f) {
            this.setAttr('');
            this.state = BEFORE_ATTR;
          } else {
            if (this.attrName.length <= MAX_ATTR_NAME) this.attrName += s[i];
            i++;
          }
          break;
        case AFTER_NAME:
          if (isWs(c)) i++;
          else if (c === 0x3d) {
            this.startValue();
            i++;
          } else {
            this.setAttr('');
            this.state = BEFORE_ATTR;
          }
          break;
        case BEFORE_VALUE:
          if (isWs(c)) i++;
          else if (c === 0x22 || c === 0x27) {
            this.quote = c;
            this.quoteAt = this.offset + i;
            this.state = QUOTED;
            i++;
          } else if (c === 0x3e) {
            this.setAttr('');
            this.state = BEFORE_ATTR;
          } else {
            this.state = UNQUOTED;
          }
          break;
        case QUOTED: {
          const end = s.indexOf(this.quote === 0x22 ? '"' : "'", i);
          const stop = end === -1 ? n : end;
          this.addValue(s, i, stop);
          if (end === -1) i = n;
          else {
            this.setAttr(this.value);
            this.state = BEFORE_ATTR;
            i = end + 1;
          }
          break;
        }
        case UNQUOTED: {
          let e = i;
          while (e < n && !isWs(s.charCodeAt(e)) && s.charCodeAt(e) !== 0x3e) e++;
          this.addValue(s, i, e);
          if (e < n) {
            this.setAttr(this.value);
            this.state = BEFORE_ATTR;
          }
          i = e;
          break;
        }
        default: // RAW
          i = this.rawText(s, i);
      }
    }
    this.offset += n;
  }

  end(): void {
    switch (this.state) {
      case TEXT:
      case LT:
        return;
      case BANG:
      case BANG_DASH:
      case MARKUP:
        throw new MalformedHtml('markup never ends', this.tagAt);
      case COMMENT:
        throw new MalformedHtml('comment never ends', this.tagAt);
      case QUOTED:
        throw new MalformedHtml(`attribute ${this.attrName.toLowerCase()} of <${this.name}> never ends`, this.quoteAt);
      case RAW:
        throw new MalformedHtml(`<${this.name}> never ends`, this.tagAt);
      default:
        throw new MalformedHtml(`<${this.name}> tag never ends`, this.tagAt);
    }
  }

  private startValue(): void {
    this.attrName = this.attrName.toLowerCase();
    this.keepValue = this.reported && this.attrName.length <= MAX_ATTR_NAME && !this.attrs.has(this.attrName) && this.keep(this.name, this.attrName);
    this.value = '';
    this.state = BEFORE_VALUE;
  }

  private addValue(s: string, from: number, to: number): void {
    if (!this.keepValue || to === from) return;
    if (this.value.length + (to - from) > this.maxValue) {
      throw new MalformedHtml(`attribute ${this.attrName} of <${this.name}> is longer than ${this.maxValue} characters`, this.offset + from);
    }
    this.value += s.slice(from, to);
  }

  /** The first of two equal attributes wins, as in browsers. */
  private setAttr(value: string): void {
    const name = this.attrName.toLowerCase();
    if (this.state === ATTR_NAME || this.state === AFTER_NAME) {
      // An attribute without "=": its value is empty.
      this.keepValue = this.reported && name.length <= MAX_ATTR_NAME && !this.attrs.has(name) && this.keep(this.name, name);
    }
    if (this.keepValue) this.attrs.set(name, decodeEntities(own(value)));
    this.keepValue = false;
    this.value = '';
  }

  private endTag(): void {
    if (this.reported) this.onTag({ name: this.name, attrs: this.attrs });
    this.attrs = new Map();
    if (this.name === 'script' || this.name === 'style') {
      this.raw = `</${this.name}`;
      this.rawMatched = 0;
      this.state = RAW;
    } else {
      this.state = TEXT;
    }
  }

  /** Inside <script> or <style>: nothing is read until "</script" (any case), which is then markup. */
  private rawText(s: string, i: number): number {
    const n = s.length;
    const raw = this.raw;
    for (; i < n; i++) {
      if (this.rawMatched === 0) {
        const lt = s.indexOf('<', i);
        if (lt === -1) return n;
        i = lt;
      }
      const c = s.charCodeAt(i);
      const want = raw.charCodeAt(this.rawMatched);
      if (c === want || (isLetter(c) && (c | 0x20) === want)) {
        if (++this.rawMatched === raw.length) {
          this.tagAt = this.offset + i - raw.length + 1;
          this.state = MARKUP;
          return i + 1;
        }
      } else {
        this.rawMatched = c === 0x3c ? 1 : 0;
      }
    }
    return i;
  }
}

/** Every start tag of a whole document (the scanner above, fed once). */
export function scanTags(html: string): Tag[] {
  const tags: Tag[] = [];
  const scanner = new TagScanner((t) => tags.push(t));
  scanner.write(html);
  scanner.end();
  return tags;
}
