import { isDeepStrictEqual } from 'node:util';
import { applyEdits, modify, parse, type FormattingOptions, type ParseError } from 'jsonc-parser';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { KeyproxyError } from '../errors.js';
import type { ClientFile } from './catalog.js';

/** One server entry of a client file, as the client wrote it. */
export interface ClientEntry {
  name: string;
  entry: Record<string, unknown>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function unreadable(file: ClientFile, why: string): KeyproxyError {
  return new KeyproxyError('CONFIG_INVALID', `cannot read ${file.path} (${file.client}): ${why}. Fix it in the client, then run again.`);
}

/** The whole document of a client file (JSON with comments, or TOML); never quotes its text in an error. */
export function parseClientText(file: ClientFile, text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  if (file.format === 'toml') {
    try {
      return parseToml(text) as Record<string, unknown>;
    } catch (error) {
      const line = (error as { line?: number }).line;
      throw unreadable(file, `not valid TOML${line ? ` (line ${line})` : ''}`);
    }
  }
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) throw unreadable(file, `not valid JSON (at offset ${errors[0]?.offset ?? 0})`);
  if (!isObject(value)) throw unreadable(file, 'the top level is not an object');
  return value;
}

/** The JSON path of the servers object in a client file. */
function serversPath(file: ClientFile): string[] {
  return [...(file.within ?? []), file.serversKey];
}

/** The value at `path` of a parsed document (undefined when any step is missing). */
function valueAt(document: unknown, path: readonly string[]): unknown {
  let node = document;
  for (const key of path) node = isObject(node) && Object.hasOwn(node, key) ? node[key] : undefined;
  return node;
}

/** `document` with `value` set at `path` (objects created on the way), as a new object. */
function withValueAt(document: Record<string, unknown>, path: readonly string[], value: unknown): Record<string, unknown> {
  const [key, ...rest] = path;
  if (key === undefined) return document;
  const inner = isObject(document[key]) ? document[key] : {};
  return { ...document, [key]: rest.length === 0 ? value : withValueAt(inner, rest, value) };
}

/** The server entries of a client file, in file order. */
export function readEntries(file: ClientFile, text: string): ClientEntry[] {
  const servers = valueAt(parseClientText(file, text), serversPath(file));
  if (!isObject(servers)) return [];
  return Object.entries(servers).flatMap(([name, entry]) => (isObject(entry) ? [{ name, entry }] : []));
}

/** The indentation and line ends the file already uses, so an edit looks like the rest of it. */
function formattingOf(text: string): FormattingOptions {
  const indent = /\n([ \t]+)\S/.exec(text)?.[1] ?? '  ';
  return {
    insertSpaces: !indent.startsWith('\t'),
    tabSize: indent.startsWith('\t') ? 1 : indent.length,
    eol: text.includes('\r\n') ? '\r\n' : '\n',
  };
}

/**
 * `text` with server `name` set to `entry` (replaced, or added), everything else byte for byte as it was: JSON
 * through jsonc-parser's edits (comments stay), TOML by rewriting only that server's tables. The result is parsed
 * again and must hold exactly the intended change, or nothing is returned but an error.
 */
export function setEntry(file: ClientFile, text: string, name: string, entry: Record<string, unknown>): string {
  const before = parseClientText(file, text);
  let next: string;
  if (file.format === 'json') {
    next = setJsonEntry(file, text.trim() === '' ? '{}\n' : text, name, entry, before);
  } else {
    next = setTomlTable(file, text, name, entry);
  }
  const after = parseClientText(file, next);
  const expected = withValueAt(before, [...serversPath(file), name], entry);
  if (!isDeepStrictEqual(normalize(after), normalize(expected))) {
    throw new KeyproxyError(
      'CONFIG_INVALID',
      `cannot edit ${file.path} safely (the edit would change more than server "${name}"); nothing was written. Edit it by hand.`,
    );
  }
  return next;
}

/**
 * An existing entry is edited key by key, so a comment on a key that stays (`"type": "stdio", // local`) stays too;
 * a new entry is added whole.
 */
function setJsonEntry(
  file: ClientFile,
  text: string,
  name: string,
  entry: Record<string, unknown>,
  before: Record<string, unknown>,
): string {
  const old = valueAt(before, [...serversPath(file), name]);
  const at = serversPath(file);
  const options = { formattingOptions: formattingOf(text) };
  if (!isObject(old)) return applyEdits(text, modify(text, [...at, name], entry, options));
  let next = text;
  for (const key of Object.keys(old)) {
    if (!Object.hasOwn(entry, key)) next = applyEdits(next, modify(next, [...at, name, key], undefined, options));
  }
  for (const [key, value] of Object.entries(entry)) {
    if (!isDeepStrictEqual(old[key], value)) next = applyEdits(next, modify(next, [...at, name, key], value, options));
  }
  return next;
}

/** True when two entries are the same to a client (key order aside; TOML tables are null-prototype objects). */
export function sameEntry(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(normalize(a), normalize(b));
}

/** Key order does not matter to a client; TOML dates are compared as text. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (isObject(value))
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, normalize(value[key])]),
    );
  return value instanceof Date ? value.toISOString() : value;
}

const bareKey = /^[A-Za-z0-9_-]+$/;

/** The table header of server `name` and of its sub-tables (`[mcp_servers.name]`, `[mcp_servers.name.env]`). */
function headerOf(line: string, serversKey: string): string[] | undefined {
  const match = /^\s*\[([^[\]]+)\]\s*(#.*)?$/.exec(line);
  if (!match?.[1]) return undefined;
  // Split a dotted key, honouring quoted parts ("my.server").
  const parts = [...match[1].matchAll(/\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*(?:\.|$)/g)].map((m) => {
    const part = m[1] ?? '';
    return part.startsWith('"') ? (JSON.parse(part) as string) : part.startsWith("'") ? part.slice(1, -1) : part;
  });
  return parts[0] === serversKey ? parts.slice(1) : [];
}

function setTomlTable(file: ClientFile, text: string, name: string, entry: Record<string, unknown>): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  const isOurs = (line: string): boolean => headerOf(line, file.serversKey)?.[0] === name;
  const start = lines.findIndex(isOurs);
  const section = stringifyToml({ [file.serversKey]: { [name]: entry } })
    .replace(/\n+$/, '')
    .split('\n');
  if (start < 0) {
    const body = text.replace(/\s*$/, '');
    return `${body}${body === '' ? '' : eol + eol}${section.join(eol)}${eol}`;
  }
  // The server's tables run until a header of anything else; comments and blank lines at their end belong to what follows.
  let end = start + 1;
  while (end < lines.length && (headerOf(lines[end] ?? '', file.serversKey) === undefined || isOurs(lines[end] ?? ''))) end++;
  let last = end;
  while (last > start + 1 && /^\s*(#.*)?$/.test(lines[last - 1] ?? '')) last--;
  const inside = lines.slice(start + 1, last);
  const keptComments = inside.filter((line) => /^\s*#/.test(line));
  const tail = lines.slice(last);
  const [header = '', ...rest] = section;
  const rewritten = [header, ...keptComments, ...rest];
  if (!bareKey.test(name) && !header.includes(name))
    throw new KeyproxyError('CONFIG_INVALID', `cannot edit server "${name}" in ${file.path}`);
  return [...lines.slice(0, start), ...rewritten, ...tail].join(eol);
}
