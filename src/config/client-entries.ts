import type { ConfigFinding } from './findings.js';
import { localServerSchema, proxyConfigSchema, remoteServerSchema } from './schema.js';

type Entry = Record<string, unknown>;

function isObject(value: unknown): value is Entry {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Client spellings of `type` for a remote entry, and the transport each means. */
const remoteTypes: Readonly<Record<string, 'http' | 'sse'>> = {
  http: 'http',
  'streamable-http': 'http',
  streamableHttp: 'http',
  sse: 'sse',
};

const quoted = (keys: readonly string[]): string => keys.map((key) => JSON.stringify(key)).join(', ');

/** Edit distance of two short keys (Levenshtein). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** A key one or two typos away from one of ours ("headrs") is a mistake to report, not a client's own key. */
function looksLikeTypo(key: string, ours: readonly string[]): boolean {
  return key.length >= 4 && ours.some((own) => own.length >= 4 && distance(key.toLowerCase(), own.toLowerCase()) <= 2);
}

/** One server entry as a client wrote it, in our shape: URL aliases folded in, `type` read, unknown keys dropped. */
function normalizeEntry(path: readonly PropertyKey[], given: Entry, findings: ConfigFinding[]): Entry {
  const entry: Entry = { ...given };
  // Windsurf writes `serverUrl`; Gemini CLI writes `httpUrl` for Streamable HTTP (its `url` is SSE).
  if (entry.url === undefined && typeof entry.serverUrl === 'string') {
    entry.url = entry.serverUrl;
    delete entry.serverUrl;
  }
  if (entry.url === undefined && typeof entry.httpUrl === 'string') {
    entry.url = entry.httpUrl;
    entry.transport ??= 'http';
    delete entry.httpUrl;
  }
  if (entry.url !== undefined && entry.transport === undefined && typeof entry.type === 'string') {
    const transport = Object.hasOwn(remoteTypes, entry.type) ? remoteTypes[entry.type] : undefined;
    if (transport) entry.transport = transport;
  }
  const shape = 'command' in entry ? localServerSchema.shape : 'url' in entry ? remoteServerSchema.shape : undefined;
  if (!shape) return entry; // neither kind: the schema says what is missing
  const ours = Object.keys(shape);
  // Typos stay in: the schema then reports them as unknown keys, with the allowed ones.
  const unknown = Object.keys(entry).filter((key) => !Object.hasOwn(shape, key) && !looksLikeTypo(key, ours));
  if (unknown.length === 0) return entry;
  for (const key of unknown) delete entry[key];
  findings.push({
    path,
    message: `ignored ${quoted(unknown)}: not used by mcp-keyproxy (its keys here: ${ours.join(', ')})`,
  });
  return entry;
}

/**
 * The parsed JSON of a config file read as a client's file: settings beside the servers (Claude Desktop's
 * `globalShortcut`, VS Code's `inputs`) and keys a client adds to an entry (`type`, `disabled`, `autoApprove`…)
 * are dropped with one warning each, so an `mcpServers` block pasted from any client works as it is.
 */
export function normalizeClientEntries(input: unknown): { input: unknown; warnings: ConfigFinding[] } {
  if (!isObject(input)) return { input, warnings: [] };
  const warnings: ConfigFinding[] = [];
  const output: Entry = {};
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(input)) {
    if (!Object.hasOwn(proxyConfigSchema.shape, key)) ignored.push(key);
    else if ((key === 'servers' || key === 'mcpServers') && isObject(value)) {
      output[key] = Object.fromEntries(
        Object.entries(value).map(([name, entry]) => [name, isObject(entry) ? normalizeEntry([key, name], entry, warnings) : entry]),
      );
    } else output[key] = value;
  }
  if (ignored.length > 0) {
    warnings.push({ path: [], message: `ignored ${quoted(ignored)}: only the servers of this file are read` });
  }
  return { input: output, warnings };
}
