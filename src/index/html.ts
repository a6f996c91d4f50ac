// Just enough HTML for PEP 503 pages: the start tags and their attributes, entities decoded.
// Tolerant of what browsers tolerate (unknown tags, missing end tags, unquoted attributes), strict
// about what makes the page unreadable (a tag, comment or quoted value that never ends): such a page
// is refused rather than half-read.

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

const WS = /[\t\n\f\r ]/;

export function scanTags(html: string): Tag[] {
  const tags: Tag[] = [];
  const n = html.length;
  let i = 0;
  for (;;) {
    const lt = html.indexOf('<', i);
    if (lt === -1) break;
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      if (end === -1) throw new MalformedHtml('comment never ends', lt);
      i = end + 3;
      continue;
    }
    const next = html[lt + 1];
    if (next === '!' || next === '?' || next === '/') {
      const end = html.indexOf('>', lt + 1);
      if (end === -1) throw new MalformedHtml('markup never ends', lt);
      i = end + 1;
      continue;
    }
    const nameMatch = /^[A-Za-z][A-Za-z0-9:-]*/.exec(html.slice(lt + 1, lt + 64));
    if (!nameMatch) {
      i = lt + 1; // a lone "<" in text
      continue;
    }
    const name = nameMatch[0].toLowerCase();
    const attrs = new Map<string, string>();
    let j = lt + 1 + nameMatch[0].length;
    for (;;) {
      while (j < n && WS.test(html[j]!)) j++;
      if (j >= n) throw new MalformedHtml(`<${name}> tag never ends`, lt);
      const c = html[j]!;
      if (c === '>') {
        j++;
        break;
      }
      if (c === '/') {
        j++;
        continue;
      }
      let k = j;
      while (k < n && !WS.test(html[k]!) && html[k] !== '=' && html[k] !== '>' && html[k] !== '/') k++;
      if (k === j) {
        j++; // a stray character such as a quote: skip it, as browsers do
        continue;
      }
      const attrName = html.slice(j, k).toLowerCase();
      j = k;
      while (j < n && WS.test(html[j]!)) j++;
      let value = '';
      if (html[j] === '=') {
        j++;
        while (j < n && WS.test(html[j]!)) j++;
        const q = html[j];
        if (q === '"' || q === "'") {
          const end = html.indexOf(q, j + 1);
          if (end === -1) throw new MalformedHtml(`attribute ${attrName} of <${name}> never ends`, j);
          value = html.slice(j + 1, end);
          j = end + 1;
        } else {
          let e = j;
          while (e < n && !WS.test(html[e]!) && html[e] !== '>') e++;
          value = html.slice(j, e);
          j = e;
        }
      }
      if (!attrs.has(attrName)) attrs.set(attrName, decodeEntities(value));
    }
    tags.push({ name, attrs });
    if (name === 'script' || name === 'style') {
      const close = new RegExp(`</${name}`, 'ig');
      close.lastIndex = j;
      const end = close.exec(html);
      if (!end) throw new MalformedHtml(`<${name}> never ends`, lt);
      j = end.index;
    }
    i = j;
  }
  return tags;
}
