// The INI dialect pip's configuration files are read with (Python's RawConfigParser defaults):
// [section] headers (case-sensitive), `key = value` or `key: value` (keys lower-cased), full-line
// comments starting with # or ;, values continued on more-indented lines, [DEFAULT] applying to every
// section, no interpolation. A line that is none of these makes the file unreadable, as it does for pip.

export class IniError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = 'IniError';
  }
}

export type IniSections = Map<string, Map<string, string>>;

export function parseIni(text: string): IniSections {
  const raw = new Map<string, Map<string, string[]>>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  let section: Map<string, string[]> | null = null;
  let option: string[] | null = null;
  let optionIndent = 0;
  lines.forEach((line, i) => {
    const stripped = line.trim();
    const indent = line.length - line.trimStart().length;
    if (stripped.startsWith('#') || stripped.startsWith(';')) return;
    if (stripped === '') {
      if (option) option.push('');
      return;
    }
    if (option && indent > optionIndent) {
      option.push(stripped);
      return;
    }
    option = null;
    const header = /^\[(.+)\]$/.exec(stripped);
    if (header) {
      const name = header[1]!;
      section = raw.get(name) ?? new Map<string, string[]>();
      raw.set(name, section);
      return;
    }
    const kv = /^(.*?)\s*([=:])\s*(.*)$/.exec(stripped);
    if (!kv || kv[1] === '') throw new IniError(`line ${i + 1} is not a section, an option or a comment`, i + 1);
    if (!section) throw new IniError(`line ${i + 1} comes before any [section]`, i + 1);
    option = [kv[3]!];
    optionIndent = indent;
    section.set(kv[1]!.trim().toLowerCase(), option);
  });
  const out: IniSections = new Map();
  const join = (parts: string[]) => parts.join('\n').trim();
  const defaults = raw.get('DEFAULT') ?? new Map<string, string[]>();
  for (const [name, opts] of raw) {
    if (name === 'DEFAULT') continue;
    const merged = new Map<string, string>();
    for (const [k, v] of defaults) merged.set(k, join(v));
    for (const [k, v] of opts) merged.set(k, join(v));
    out.set(name, merged);
  }
  return out;
}
