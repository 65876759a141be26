import { randomBytes } from 'node:crypto';

/** The characters of a verification code: no 0/O, 1/I/L, so it reads back without doubt. */
const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

const LENGTH = 8;
// The largest multiple of the alphabet size that fits in a byte: bytes at or above it are dropped, so that
// `byte % size` is uniform (a plain modulo would favour the first 256 % 31 characters).
const LIMIT = 256 - (256 % CODE_ALPHABET.length);

/** A fresh `XXXX-XXXX` code from the CSPRNG, shown both in the dialog and in the AI app. */
export function newVerificationCode(random: (size: number) => Uint8Array = randomBytes): string {
  let chars = '';
  while (chars.length < LENGTH) {
    for (const byte of random(LENGTH * 2)) {
      if (byte >= LIMIT) continue;
      chars += CODE_ALPHABET[byte % CODE_ALPHABET.length];
      if (chars.length === LENGTH) break;
    }
  }
  return `${chars.slice(0, 4)}-${chars.slice(4)}`;
}
