/**
 * The fixed strings in which a secret value can appear in text: itself, JSON-escaped (once, and twice as in a log
 * line that quotes JSON), with `+` for each space (form encoding), hex of its UTF-8 bytes (lowercase, uppercase),
 * and base64 / base64url at each of the three byte alignments. Spellings that mix escaped and plain characters (percent-encoding, `\uXXXX`) are not
 * fixed strings: escaped-spelling.ts finds those.
 */
export function literalForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const json = JSON.stringify(value).slice(1, -1);
  const hex = bytes.toString('hex');
  const form = value.replaceAll(' ', '+');
  return [...new Set([value, json, JSON.stringify(json).slice(1, -1), form, hex, hex.toUpperCase(), ...base64Forms(bytes)])];
}

/**
 * Base64 text of data that holds `bytes` somewhere. Where the secret starts `offset` bytes into a 3-byte group,
 * the characters that carry its bits and nobody else's are the same whatever surrounds it: that inner part is
 * a form for each offset. Where the secret also ends the data, its last partial group and the padding are its
 * own too: the tail, with and without `=`, is a longer form (so more is redacted). Each in both alphabets.
 * Only the one character at each edge that mixes in a neighbour byte (at most 4 bits of the secret) stays.
 */
function base64Forms(bytes: Buffer): string[] {
  const forms: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const first = Math.ceil((offset * 8) / 6);
    const end = Math.floor(((offset + bytes.length) * 8) / 6);
    const tail = encoded.slice(first);
    for (const form of [encoded.slice(first, end), tail, tail.replace(/=+$/, '')]) {
      forms.push(form, form.replaceAll('+', '-').replaceAll('/', '_'));
    }
  }
  return forms;
}
