import { isDeepStrictEqual } from 'node:util';
import { isServerName } from '../config/names.js';
import { injectionProblem } from '../secrets/value-rules.js';
import { CODEX_ENV_VARS, type ClientFile } from './catalog.js';
import { findCredentials, type ArgumentCredential, type LiteralCredential } from './credentials.js';
import type { ClientEntry } from './client-file.js';

/** How a client entry starts mcp-keyproxy: `node <absolute bin>` (default) or `npx -y mcp-keyproxy`. */
export interface Launcher {
  command: string;
  args: string[];
}

/** What migrating one entry does. */
export interface EntryPlan {
  /** The entry's name in the client file. */
  name: string;
  /** The server's name in the proxy config and in the keychain. */
  server: string;
  kind: 'local' | 'remote';
  literals: LiteralCredential[];
  args: ArgumentCredential[];
  /** The server as the proxy config gets it, with `${secret:…}` references. */
  proxyServer: Record<string, unknown>;
  /** What replaces the entry in the client file: a stdio entry that runs the proxy. */
  clientEntry: Record<string, unknown>;
}

/** An entry left as it is, and why (undefined reason: it holds no key). */
export interface LeftEntry {
  name: string;
  reason?: string;
  args: ArgumentCredential[];
}

/** Keys that say how to reach a server; every other key of an entry is the client's own and stays. */
const connectionKeys = new Set([
  'type',
  'command',
  'args',
  'env',
  'cwd',
  'url',
  'serverUrl',
  'httpUrl',
  'headers',
  'http_headers',
  'transport',
  'env_vars',
  'bearer_token_env_var',
  'env_http_headers',
  'envFile',
]);

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const strings = (value: unknown): Record<string, string> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).filter((pair): pair is [string, string] => typeof pair[1] === 'string'))
    : {};

/** A client's `${VAR}` / `${env:VAR}` as the proxy writes it; undefined for what only the client can fill in. */
function toProxyTemplate(value: string): string | undefined {
  let unknown = false;
  const out = value.replace(/\$\{([^}]*)\}/g, (_, body: string) => {
    const name = body.startsWith('env:') ? body.slice(4) : body;
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `\${env:${name}}`;
    unknown = true;
    return '';
  });
  return unknown ? undefined : out;
}

/** The command line of a client entry that runs the proxy for `server`. */
export function proxyLaunch(launcher: Launcher, server: string, configPath: string): { command: string; args: string[] } {
  return { command: launcher.command, args: [...launcher.args, 'run', server, '--config', configPath] };
}

/** True when the entry already starts mcp-keyproxy. */
export function runsProxy(entry: Record<string, unknown>): boolean {
  const words = [text(entry.command) ?? '', ...(Array.isArray(entry.args) ? entry.args.map(String) : [])];
  return words.some((word) => /mcp-keyproxy/.test(word));
}

/** The variable names a Codex entry passes on from Codex's environment (`env_vars`). */
function passedVariables(entry: Record<string, unknown>): string[] {
  return Array.isArray(entry.env_vars)
    ? entry.env_vars.filter((name): name is string => typeof name === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    : [];
}

/** The client entry for a proxy server: the client's own keys kept, the connection replaced by the proxy. */
export function clientEntryFor(file: ClientFile, launch: { command: string; args: string[] }, own: Record<string, unknown> = {}) {
  const kept = Object.fromEntries(Object.entries(own).filter(([key]) => !connectionKeys.has(key)));
  return {
    ...(file.writesType ? { type: 'stdio' } : {}),
    command: launch.command,
    args: launch.args,
    // Codex passes only the variables env_vars names: the entry's own stay, beside those the keychain and dialog need.
    ...(file.client === 'codex' ? { env_vars: [...new Set([...passedVariables(own), ...CODEX_ENV_VARS])] } : {}),
    ...kept,
  };
}

/** Plans one entry: what goes to the keychain, to the proxy config, and back into the client file. */
export function planEntry(
  file: ClientFile,
  { name, entry }: ClientEntry,
  options: { launcher: Launcher; configPath: string; serverName: (wanted: string, proxyServer: Record<string, unknown>) => string },
): EntryPlan | LeftEntry {
  if (runsProxy(entry)) return { name, reason: 'already runs mcp-keyproxy', args: [] };
  const url = text(entry.url) ?? text(entry.serverUrl) ?? text(entry.httpUrl);
  const command = text(entry.command);
  const env = strings(entry.env);
  const headers = { ...strings(entry.headers), ...strings(entry.http_headers) };
  const args = Array.isArray(entry.args) ? entry.args.filter((arg): arg is string => typeof arg === 'string') : [];
  const found = findCredentials({ env, headers, args });
  if (found.literals.length === 0) {
    return { name, args: found.args, ...(found.args.length > 0 ? { reason: 'a key in its arguments (see below)' } : {}) };
  }
  for (const literal of found.literals) {
    const problem = literal.value.length < 8 ? 'it is shorter than 8 characters' : injectionProblem(literal.value);
    if (problem) return { name, reason: `the value of ${literal.key} cannot be stored (${problem}); move it by hand`, args: found.args };
  }
  const moved = new Map(found.literals.map((literal) => [`${literal.where}:${literal.key}`, literal]));
  const carry = (where: 'env' | 'headers', values: Record<string, string>): Record<string, string> | undefined => {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) {
      const literal = moved.get(`${where}:${key}`);
      const converted = literal ? `${literal.prefix.replaceAll('${', '$${')}\${secret:${literal.secretName}}` : toProxyTemplate(value);
      if (converted === undefined) return undefined;
      out[key] = converted;
    }
    return out;
  };
  const secrets = Object.fromEntries(
    found.literals.map((literal) => [literal.secretName, { label: `${literal.key} (moved from ${file.client})` }]),
  );
  let proxyServer: Record<string, unknown>;
  if (command !== undefined) {
    const proxyEnv = carry('env', env);
    const proxyArgs = args.map((arg) => toProxyTemplate(arg));
    const cwd = text(entry.cwd);
    if (!proxyEnv || proxyArgs.some((arg) => arg === undefined) || toProxyTemplate(command) === undefined) {
      return {
        name,
        reason: `it uses a \${…} that only ${file.client} can fill in (e.g. \${input:…}); move its keys by hand`,
        args: found.args,
      };
    }
    // What the client passed on by name now reaches the proxy, which hands it on only when told to (inherit_env).
    const inherited = passedVariables(entry);
    proxyServer = {
      command,
      args: proxyArgs,
      env: proxyEnv,
      ...(cwd ? { cwd } : {}),
      ...(inherited.length > 0 ? { inherit_env: inherited } : {}),
      secrets,
    };
  } else if (url !== undefined) {
    const proxyHeaders = carry('headers', headers);
    if (!proxyHeaders)
      return { name, reason: `a header uses a \${…} that only ${file.client} can fill in; move its keys by hand`, args: [] };
    const type = text(entry.type);
    const transport =
      entry.httpUrl !== undefined || type === 'http' || type === 'streamable-http' ? 'http' : type === 'sse' ? 'sse' : 'auto';
    proxyServer = { url, headers: proxyHeaders, transport, secrets };
  } else {
    return { name, reason: 'neither "command" nor a URL', args: [] };
  }
  const wanted = isServerName(name) ? name : name.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, 's');
  const server = options.serverName(wanted, proxyServer);
  return {
    name,
    server,
    kind: command !== undefined ? 'local' : 'remote',
    literals: found.literals,
    args: found.args,
    proxyServer,
    clientEntry: clientEntryFor(file, proxyLaunch(options.launcher, server, options.configPath), entry),
  };
}

/**
 * Names servers without clashes: a name already used for the same server is reused (migrating twice, or the
 * same server from two clients), another gets the client's name added.
 */
export function serverNamer(
  existing: Record<string, unknown>,
  client: string,
): (wanted: string, server: Record<string, unknown>) => string {
  return (wanted, server) => {
    for (const candidate of [wanted, `${wanted}-${client}`, ...[2, 3, 4, 5, 6, 7, 8, 9].map((n) => `${wanted}-${client}-${n}`)]) {
      if (!Object.hasOwn(existing, candidate) || isDeepStrictEqual(existing[candidate], server)) {
        existing[candidate] = server;
        return candidate;
      }
    }
    throw new Error(`no free server name for ${wanted}`);
  };
}

/** True for a plan (as opposed to an entry left alone). */
export function isPlan(plan: EntryPlan | LeftEntry): plan is EntryPlan {
  return 'server' in plan;
}
