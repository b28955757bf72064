/**
 * Text from outside (a configuration value, a peer's message, a file's content) made safe for
 * one log or error line: control and other non-printable characters escaped as \xNN (or \uNNNN),
 * and at most `max` characters kept, with a note of how many were cut.
 */
export function printable(text: string, max = 512): string {
  let out = '';
  let i = 0;
  for (; i < text.length && out.length < max; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) out += text[i];
    else if (c === 0x09) out += '\\t';
    else if (c < 0x100 && (c < 0x20 || (c >= 0x7f && c < 0xa0))) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0xa0 && c < 0xd800) out += text[i];
    else out += `\\u${c.toString(16).padStart(4, '0')}`;
  }
  return i < text.length ? `${out}… (${text.length - i} more characters)` : out;
}
