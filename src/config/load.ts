import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { KeyproxyError } from '../errors.js';
import { checkServer } from './checks.js';
import { lintServerCredentials } from './credential-lint.js';
import { formatFinding, type ConfigFinding } from './findings.js';
import { jsonErrorOffset } from './json-position.js';
import { CONFIG_FILE_NAME, platformConfigDir } from './paths.js';
import { proxyConfigSchema, type ServerConfig } from './schema.js';
import type { LoadedConfig } from './types.js';
import { zodIssuesToFindings } from './zod-issues.js';

/** Where to look for the config; every field defaults to the current process. */
export interface LoadConfigOptions {
  /** Path given with `--config` (relative to `cwd`). */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  platform?: NodeJS.Platform;
  homedir?: string;
}

/** A place where a config file may be, and why it is looked at. */
export interface ConfigCandidate {
  path: string;
  source: string;
  /** Named by the user (--config or MCP_KEYPROXY_CONFIG): must exist, no fallback. */
  explicit: boolean;
}

/** The places looked at, in order: --config, MCP_KEYPROXY_CONFIG, ./proxy.config.json, the platform config dir. */
export function configCandidates(options: LoadConfigOptions = {}): ConfigCandidate[] {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  if (options.configPath) return [{ path: path.resolve(cwd, options.configPath), source: '--config', explicit: true }];
  const fromEnv = env.MCP_KEYPROXY_CONFIG;
  if (fromEnv) return [{ path: path.resolve(cwd, fromEnv), source: 'MCP_KEYPROXY_CONFIG', explicit: true }];
  const dir = platformConfigDir(options.platform ?? process.platform, env, options.homedir ?? homedir());
  return [
    { path: path.join(cwd, CONFIG_FILE_NAME), source: 'working directory', explicit: false },
    { path: path.join(dir, CONFIG_FILE_NAME), source: 'platform config directory', explicit: false },
  ];
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw new KeyproxyError('CONFIG_INVALID', `cannot access config file ${file} (${code ?? 'unknown error'})`, { cause: error });
  }
}

/** The path of the config file to use; throws `CONFIG_NOT_FOUND` listing where it looked and how to create one. */
export async function locateConfig(options: LoadConfigOptions = {}): Promise<string> {
  const candidates = configCandidates(options);
  for (const candidate of candidates) {
    if (await exists(candidate.path)) return candidate.path;
  }
  const looked = candidates.map((c) => `  ${c.path} (${c.source})`).join('\n');
  const create = `Create one from proxy.config.example.json (shipped with mcp-keyproxy)`;
  const first = candidates[0];
  const message =
    first?.explicit === true
      ? `config file not found: ${first.path} (from ${first.source}) does not exist.\n${create}, or fix the path.`
      : `no config file found. Looked in:\n${looked}\n${create} in one of these places, or pass --config <file> or set MCP_KEYPROXY_CONFIG.`;
  throw new KeyproxyError('CONFIG_NOT_FOUND', message);
}

function lineColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, position).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const raw = error instanceof Error ? error.message : String(error);
    // V8 quotes a slice of the source in some messages; that slice may hold a credential, so keep only the reason.
    const reason = raw.replace(/, (\.\.\.)?".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '').slice(0, 80);
    const offset = jsonErrorOffset(text);
    const at = offset === undefined ? undefined : lineColumn(text, offset);
    const where = at ? `:${at.line}:${at.column}` : '';
    throw new KeyproxyError('CONFIG_INVALID', `${file}${where}: not valid JSON (${reason}). Fix the syntax (no comments or trailing commas in JSON).`);
  }
}

function invalid(file: string, findings: readonly ConfigFinding[]): KeyproxyError {
  const lines = findings.map((finding) => formatFinding(file, finding)).join('\n');
  const hint = 'Fix the entries above. Point "$schema" at the schema shipped with mcp-keyproxy (schema/proxy.config.schema.json) to get these checks in your editor.';
  return new KeyproxyError('CONFIG_INVALID', `invalid config ${file}:\n${lines}\n${hint}`);
}

/** Validates the text of a config file; `file` is only used in messages and `LoadedConfig.path`. */
export function parseConfig(text: string, file: string): LoadedConfig {
  const input = parseJson(text.replace(/^\uFEFF/, ''), file);
  const parsed = proxyConfigSchema.safeParse(input);
  if (!parsed.success) throw invalid(file, zodIssuesToFindings(parsed.error.issues, input));
  const { servers, mcpServers, tool_separator: toolSeparator } = parsed.data;
  if (servers && mcpServers) {
    throw invalid(file, [{ path: ['mcpServers'], message: 'both "servers" and "mcpServers" are present; keep one (they are alternatives, not merged)' }]);
  }
  const key = servers ? 'servers' : 'mcpServers';
  const entries = servers ?? mcpServers;
  if (!entries) {
    throw invalid(file, [{ path: [], message: 'no servers: add "servers": { "<name>": { "command": "…", "args": […] } } ("mcpServers" is accepted too)' }]);
  }
  const errors: ConfigFinding[] = [];
  const warnings: ConfigFinding[] = [];
  for (const [name, server] of Object.entries(entries)) {
    const result = checkServer([key, name], name, server);
    errors.push(...result.errors);
    warnings.push(...result.warnings, ...lintServerCredentials([key, name], name, server));
  }
  if (errors.length > 0) throw invalid(file, errors);
  return { path: file, servers: entries, toolSeparator, warnings: warnings.map((finding) => formatFinding(file, finding)) };
}

/** Finds, reads and validates the config (see `configCandidates` for the discovery order). */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const file = await locateConfig(options);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EISDIR' ? 'it is a directory' : code ?? 'unknown error';
    throw new KeyproxyError('CONFIG_INVALID', `cannot read config file ${file}: ${why}`, { cause: error });
  }
  return parseConfig(text, file);
}

/** The named server of a loaded config; throws `SERVER_UNKNOWN` listing the known names. */
export function findServer(config: LoadedConfig, name: string): ServerConfig {
  if (Object.hasOwn(config.servers, name)) return config.servers[name] as ServerConfig;
  const known = Object.keys(config.servers);
  const list = known.length > 0 ? `known servers: ${known.join(', ')}` : 'it defines no servers';
  throw new KeyproxyError('SERVER_UNKNOWN', `no server "${name}" in ${config.path}; ${list}`);
}
