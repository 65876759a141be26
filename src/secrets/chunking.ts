import { createHash } from 'node:crypto';
import { isSecretName, SECRET_NAME_RULE } from '../config/names.js';
import { KeyproxyError } from '../errors.js';
import { secretsSetCommand } from './hints.js';

/** Joins a secret name and a chunk number in a chunk account name: `NAME#1` (`#` never occurs in a secret name). */
const CHUNK_SEPARATOR = '#';

/** What the main account of a chunked value starts with. */
export const CHUNK_HEADER_PREFIX = 'mcp-keyproxy:chunked:v1:';

/** Longest value (UTF-16 code units) kept in one credential: Windows allows 2560 bytes, i.e. 1280 units. */
export const MAX_CHUNK_UNITS = 1000;

/** One credential to write: the account (under the server's service) and what it holds. */
export interface StorageItem {
  account: string;
  value: string;
}

/** A parsed chunk header: how many chunks and the first 16 hex digits of the full value's SHA-256. */
export interface ChunkHeader {
  count: number;
  digest: string;
}

const headerPattern = /^mcp-keyproxy:chunked:v1:([1-9][0-9]{0,8}):([0-9a-f]{16})$/;

/** Throws SECRET_INVALID unless `name` is a valid secret name. */
export function assertSecretName(name: string): void {
  if (!isSecretName(name)) {
    throw new KeyproxyError('SECRET_INVALID', `Invalid secret name "${name}": ${SECRET_NAME_RULE}.`);
  }
}

/** The account that holds chunk `index` (1-based) of secret `name`. */
function chunkAccount(name: string, index: number): string {
  return `${name}${CHUNK_SEPARATOR}${index}`;
}

/** The secret whose chunk `account` holds (`NAME` of `NAME#3`), or undefined when it holds no chunk. */
function chunkOwner(account: string): string | undefined {
  const at = account.lastIndexOf(CHUNK_SEPARATOR);
  const name = account.slice(0, at);
  return at > 0 && isSecretName(name) && /^[1-9][0-9]*$/.test(account.slice(at + 1)) ? name : undefined;
}

/** True for the accounts that hold chunks, which `list` must hide. */
export function isChunkAccount(account: string): boolean {
  return chunkOwner(account) !== undefined;
}

/** True when `account` holds a chunk of secret `name`. */
export function isChunkAccountOf(account: string, name: string): boolean {
  return chunkOwner(account) === name;
}

/** The header stored in the main account, or null when `stored` is a plain value. */
export function parseChunkHeader(stored: string): ChunkHeader | null {
  const match = headerPattern.exec(stored);
  if (!match?.[1] || !match[2]) return null;
  return { count: Number(match[1]), digest: match[2] };
}

function digestOf(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 16);
}

function splitUnits(value: string, maxUnits: number): string[] {
  const chunks: string[] = [];
  let start = 0;
  while (start < value.length) {
    let end = Math.min(start + maxUnits, value.length);
    const last = value.charCodeAt(end - 1);
    // Never end a chunk between the two halves of a surrogate pair: each chunk must be valid UTF-16 on its own.
    if (end < value.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    chunks.push(value.slice(start, end));
    start = end;
  }
  return chunks;
}

/**
 * The credentials that store `value` under secret `name`: the value itself when short, otherwise chunks
 * `NAME#1..n` then (last) the header in `NAME`. A value that starts like a header is chunked too, so a plain
 * value is never mistaken for one.
 */
export function splitForStorage(name: string, value: string, maxUnits: number = MAX_CHUNK_UNITS): StorageItem[] {
  assertSecretName(name);
  if (maxUnits < 2) throw new RangeError('maxUnits must be at least 2');
  if (value.length <= maxUnits && !value.startsWith(CHUNK_HEADER_PREFIX)) return [{ account: name, value }];
  const chunks = splitUnits(value, maxUnits);
  const items = chunks.map((chunk, i) => ({ account: chunkAccount(name, i + 1), value: chunk }));
  items.push({ account: name, value: `${CHUNK_HEADER_PREFIX}${chunks.length}:${digestOf(value)}` });
  return items;
}

function corrupted(name: string, why: string): KeyproxyError {
  return new KeyproxyError(
    'KEYCHAIN_FAILED',
    `The stored value of secret ${name} is incomplete or corrupted (${why}). Store it again with ` +
      `\`${secretsSetCommand(undefined, name)}\`.`,
  );
}

/**
 * The full value of secret `name` from what its main account holds (`stored`; null when absent), reading chunk
 * accounts through `readAccount` when it is a header. Verifies the checksum; rejects KEYCHAIN_FAILED on mismatch.
 */
export async function joinFromStorage(
  name: string,
  stored: string | null,
  readAccount: (account: string) => string | null | Promise<string | null>,
): Promise<string | null> {
  if (stored === null) return null;
  const header = parseChunkHeader(stored);
  if (!header) return stored;
  const indexes = Array.from({ length: header.count }, (_, i) => i + 1);
  const chunks = await Promise.all(indexes.map((i) => readAccount(chunkAccount(name, i))));
  const missing = chunks.findIndex((chunk) => chunk === null);
  if (missing >= 0) throw corrupted(name, `chunk ${missing + 1} of ${header.count} is missing`);
  const value = chunks.join('');
  if (digestOf(value) !== header.digest) throw corrupted(name, 'checksum mismatch');
  return value;
}
