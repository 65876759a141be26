/** The largest value a file or program may give (a secret, not a document). */
export const MAX_SOURCE_BYTES = 64 * 1024;

/** `text` without one trailing newline (`\n` or `\r\n`), or only its first line when `firstLine` (pass-style output). */
export function secretText(text: string, firstLine = false): string {
  if (firstLine) {
    const end = text.search(/\r?\n/);
    return end === -1 ? text : text.slice(0, end);
  }
  return text.replace(/\r?\n$/, '');
}

/** The last `max` characters of a program's stderr, trimmed, for an error message (already scrubbed). */
export function tail(text: string, max = 400): string {
  const trimmed = text.trim();
  return trimmed.length <= max ? trimmed : `…${trimmed.slice(-max)}`;
}
