/**
 * Lexer of OpenVPN configuration files: one directive per line, arguments separated by
 * white space, "double" (with backslash escapes) or 'single' quotes, comments from `#` or `;`
 * at the start of a token, and inline blocks `<name> ... </name>` whose body is kept verbatim.
 */
import { ConfigError } from './errors.js';

export interface Directive {
  name: string;
  args: string[];
  line: number;
  /** Body of an inline block (`<ca>...</ca>`), the directive's only value. */
  inline?: string;
}

function splitLine(text: string, file: string, line: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (c === '#' || c === ';') break;
    let tok = '';
    if (c === '"' || c === "'") {
      const q = c;
      i++;
      for (;;) {
        if (i >= text.length) throw new ConfigError(file, line, `unterminated ${q === '"' ? 'double' : 'single'} quote`);
        const d = text[i]!;
        if (d === q) { i++; break; }
        if (q === '"' && d === '\\' && i + 1 < text.length) { tok += text[i + 1]; i += 2; continue; }
        tok += d;
        i++;
      }
    } else {
      while (i < text.length && !/[ \t\r]/.test(text[i]!)) {
        if (text[i] === '\\' && i + 1 < text.length) { tok += text[i + 1]; i += 2; continue; }
        tok += text[i];
        i++;
      }
    }
    out.push(tok);
  }
  return out;
}

export function tokenize(source: string, file: string): Directive[] {
  const lines = source.split('\n');
  const out: Directive[] = [];
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!.trim();
    const open = /^<([A-Za-z0-9_-]+)>$/.exec(raw);
    if (open) {
      const name = open[1]!;
      const start = n + 1;
      const body: string[] = [];
      for (n++; n < lines.length && lines[n]!.trim() !== `</${name}>`; n++) body.push(lines[n]!.replace(/\r$/, ''));
      if (n >= lines.length) throw new ConfigError(file, start, `inline block <${name}> has no closing </${name}>`);
      out.push({ name, args: [], line: start, inline: `${body.join('\n')}\n` });
      continue;
    }
    const toks = splitLine(raw, file, n + 1);
    if (toks.length === 0) continue;
    const [first, ...args] = toks;
    out.push({ name: first!.replace(/^--/, ''), args, line: n + 1 });
  }
  return out;
}
