import { createHash, randomBytes } from 'node:crypto';
import { isSecretName, SECRET_NAME_RULE } from '../config/names.js';
import { KeyproxyError } from '../errors.js';
import { secretsSetCommand } from './hints.js';
import { CACHE_ITEM_ACCOUNT } from './store.js';

/** Joins a secret name and a chunk number in a chunk account name: `NAME#1` (`#` never occurs in a secret name). */
const CHUNK_SEPARATOR = '#';

/** What the main account of a chunked value starts with (any format version); a plain value never does. */
export const CHUNK_HEADER_PREFIX = 'mcp-keyproxy:chunked:';

/** Longest value (UTF-16 code units) kept in one credential: Windows allows 2560 bytes, i.e. 1280 units. */
export const MAX_CHUNK_UNITS = 1000;

/** One credential to write: the account (under the server's service) and what it holds. */
export interface StorageItem {
  account: string;
  value: string;
}

/**
 * A parsed chunk header: the generation whose chunks hold the value (null for the v1 format, whose chunks are
 * `NAME#1..n`), how many chunks, and the first 16 hex digits of the full value's SHA-256.
 */
export interface ChunkHeader {
  generation: string | null;
  count: number;
  digest: string;
}

const v1Header = /^mcp-keyproxy:chunked:v1:([1-9][0-9]{0,8}):([0-9a-f]{16})$/;
const v2Header = /^mcp-keyproxy:chunked:v2:([0-9a-f]{12}):([1-9][0-9]{0,8}):([0-9a-f]{16})$/;
/** After the `#` of a chunk account: `3` (v1) or `<generation>.3` (v2). */
const chunkSuffix = /^(?:([0-9a-f]{12})\.)?[1-9][0-9]*$/;

/** A fresh generation id: each write of a long value puts its chunks under new accounts named by one. */
export function newGeneration(): string {
  return randomBytes(6).toString('hex');
}

/** True for an account a store keeps a value under: a secret name, or the source cache's own account. */
export function isAccountName(name: string): boolean {
  return isSecretName(name) || name === CACHE_ITEM_ACCOUNT;
}

/** Throws SECRET_INVALID unless `name` is a valid secret name (or the source cache's own account). */
export function assertAccountName(name: string): void {
  if (!isAccountName(name)) {
    throw new KeyproxyError('SECRET_INVALID', `Invalid secret name "${name}": ${SECRET_NAME_RULE}.`);
  }
}

/** The account that holds chunk `index` (1-based) of secret `name` in `generation` (null: the v1 format). */
function chunkAccount(name: string, generation: string | null, index: number): string {
  return `${name}${CHUNK_SEPARATOR}${generation === null ? '' : `${generation}.`}${index}`;
}

/** The secret whose chunk `account` holds (`NAME` of `NAME#3` or `NAME#<generation>.3`), else undefined. */
function chunkOwner(account: string): string | undefined {
  const at = account.lastIndexOf(CHUNK_SEPARATOR);
  const name = account.slice(0, at);
  return at > 0 && isAccountName(name) && chunkSuffix.test(account.slice(at + 1)) ? name : undefined;
}

/** The generation of chunk account `account` (null for a v1 chunk), or undefined when it holds no chunk. */
export function chunkGeneration(account: string): string | null | undefined {
  if (chunkOwner(account) === undefined) return undefined;
  return chunkSuffix.exec(account.slice(account.lastIndexOf(CHUNK_SEPARATOR) + 1))?.[1] ?? null;
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
  const v2 = v2Header.exec(stored);
  if (v2?.[1] && v2[2] && v2[3]) return { generation: v2[1], count: Number(v2[2]), digest: v2[3] };
  const v1 = v1Header.exec(stored);
  if (v1?.[1] && v1[2]) return { generation: null, count: Number(v1[1]), digest: v1[2] };
  return null;
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
 * `NAME#<generation>.1..n` then (last) the header in `NAME` that names the generation. Fresh accounts per write
 * mean the header, written last, switches atomically from the old value to the new one. A value that starts
 * like a header is chunked too, so a plain value is never mistaken for one.
 */
export function splitForStorage(
  name: string,
  value: string,
  maxUnits: number = MAX_CHUNK_UNITS,
  generation: string = newGeneration(),
): StorageItem[] {
  assertAccountName(name);
  if (maxUnits < 2) throw new RangeError('maxUnits must be at least 2');
  if (!/^[0-9a-f]{12}$/.test(generation)) throw new RangeError('generation must be 12 lowercase hex digits');
  if (value.length <= maxUnits && !value.startsWith(CHUNK_HEADER_PREFIX)) return [{ account: name, value }];
  const chunks = splitUnits(value, maxUnits);
  const items = chunks.map((chunk, i) => ({ account: chunkAccount(name, generation, i + 1), value: chunk }));
  items.push({ account: name, value: `${CHUNK_HEADER_PREFIX}v2:${generation}:${chunks.length}:${digestOf(value)}` });
  return items;
}

/** Whose secret is read, for the command that stores it again (`<server>` and the default profile when unknown). */
export interface SecretWhere {
  server?: string;
  profile?: string;
}

const incomplete = new WeakSet<Error>();

function corrupted(name: string, why: string, where: SecretWhere): KeyproxyError {
  const error = new KeyproxyError(
    'KEYCHAIN_FAILED',
    `The stored value of secret ${name} is incomplete or corrupted (${why}). Store it again with ` +
      `\`${secretsSetCommand(where.server, name, where.profile)}\`.`,
  );
  incomplete.add(error);
  return error;
}

/** True for the error of a chunked value read while another process replaced it: reading again may succeed. */
export function isIncompleteRead(error: unknown): boolean {
  return error instanceof Error && incomplete.has(error);
}

/**
 * The full value of secret `name` from what its main account holds (`stored`; null when absent), reading the
 * chunk accounts of the header's generation through `readAccount` when it is a header. Verifies that every chunk
 * is there and the checksum; rejects KEYCHAIN_FAILED otherwise.
 */
export async function joinFromStorage(
  name: string,
  stored: string | null,
  readAccount: (account: string) => string | null | Promise<string | null>,
  where: SecretWhere = {},
): Promise<string | null> {
  if (stored === null) return null;
  const header = parseChunkHeader(stored);
  if (!header) return stored;
  const indexes = Array.from({ length: header.count }, (_, i) => i + 1);
  const chunks = await Promise.all(indexes.map((i) => readAccount(chunkAccount(name, header.generation, i))));
  const missing = chunks.findIndex((chunk) => chunk === null);
  if (missing >= 0) throw corrupted(name, `chunk ${missing + 1} of ${header.count} is missing`, where);
  const value = chunks.join('');
  if (digestOf(value) !== header.digest) throw corrupted(name, 'checksum mismatch', where);
  return value;
}
