import type { ClientFile } from './catalog.js';
import { readEntries } from './client-file.js';
import { findCredentials } from './credentials.js';
import { readIfExists } from './files.js';
import { runsProxy } from './plan.js';

/** One entry of a client file as `clients` lists it: names only, never values. */
export interface EntryStatus {
  name: string;
  status: 'runs-proxy' | 'plaintext-keys' | 'no-keys';
  /** Where the literal keys are (`env.GITHUB_TOKEN`, `headers.Authorization`, `args[2]`). */
  keys: string[];
}

/** A client file found on this machine and its entries. */
export interface ClientFileStatus {
  client: string;
  scope: string;
  path: string;
  entries: EntryStatus[];
  error?: string;
}

/** The client files that exist, with each entry's state. */
export async function inventory(files: readonly ClientFile[]): Promise<ClientFileStatus[]> {
  const found: ClientFileStatus[] = [];
  for (const file of files) {
    const read = await readIfExists(file.path);
    if (!read) continue;
    const base = { client: file.client, scope: file.scope, path: file.path };
    try {
      const entries = readEntries(file, read.text).map(({ name, entry }): EntryStatus => {
        if (runsProxy(entry)) return { name, status: 'runs-proxy', keys: [] };
        const strings = (value: unknown): Record<string, string> =>
          value && typeof value === 'object' ? (value as Record<string, string>) : {};
        const { literals, args } = findCredentials({
          env: strings(entry.env),
          headers: { ...strings(entry.headers), ...strings(entry.http_headers) },
          args: Array.isArray(entry.args) ? (entry.args as string[]) : [],
        });
        const keys = [...literals.map((l) => `${l.where}.${l.key}`), ...args.map((a) => `args[${a.index}]`)];
        return { name, status: keys.length > 0 ? 'plaintext-keys' : 'no-keys', keys };
      });
      found.push({ ...base, entries });
    } catch (error) {
      found.push({ ...base, entries: [], error: error instanceof Error ? error.message : String(error) });
    }
  }
  return found;
}
