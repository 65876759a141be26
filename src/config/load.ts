import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { KeyproxyError } from '../errors.js';
import { readValidatedCache, writeValidatedCache } from './cache.js';
import { closestName } from './closest-name.js';
import { CONFIG_FILE_NAME, expandHome, platformConfigDir, platformStateDir } from './paths.js';
import type { ServerConfig } from './schema.js';
import { PROJECT_FILE_NAME } from './project-name.js';
import { trustState, trustStorePath } from './trust.js';
import type { LoadedConfig, UntrustedFile } from './types.js';

/** Where to look for the config; every field defaults to the current process. */
export interface LoadConfigOptions {
  /** Path given with `--config` (relative to `cwd`). */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  platform?: NodeJS.Platform;
  homedir?: string;
  /** Apply a trusted project file (`.mcp-keyproxy.json` in `cwd` or a parent) over the config; default true. */
  project?: boolean;
}

/** A place where a config file may be, and why it is looked at. */
interface ConfigCandidate {
  path: string;
  source: string;
  /** Named by the user (--config or MCP_KEYPROXY_CONFIG): must exist, no fallback. */
  explicit: boolean;
  /** Found in the working directory: used only once the user trusts it (trust.ts). */
  needsTrust?: boolean;
}

/** The places looked at, in order: --config, MCP_KEYPROXY_CONFIG, ./proxy.config.json, the platform config dir. */
function configCandidates(options: LoadConfigOptions = {}): ConfigCandidate[] {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  // HOME of the given environment first: `~` means the caller's home, as in their shell.
  const home = options.homedir ?? (env.HOME || homedir());
  if (options.configPath) {
    return [{ path: path.resolve(cwd, expandHome(options.configPath, home)), source: '--config', explicit: true }];
  }
  const fromEnv = env.MCP_KEYPROXY_CONFIG;
  if (fromEnv) return [{ path: path.resolve(cwd, expandHome(fromEnv, home)), source: 'MCP_KEYPROXY_CONFIG', explicit: true }];
  const dir = platformConfigDir(options.platform ?? process.platform, env, home);
  const inCwd = path.join(cwd, CONFIG_FILE_NAME);
  const inDir = path.join(dir, CONFIG_FILE_NAME);
  // The working directory may be the config directory itself: then it is the user's own config.
  return [
    ...(inCwd === inDir ? [] : [{ path: inCwd, source: 'working directory', explicit: false, needsTrust: true }]),
    { path: inDir, source: 'platform config directory', explicit: false },
  ];
}

/** The state directory of these options (trusted files, the validation cache). */
function stateDirOf(options: LoadConfigOptions): string {
  const env = options.env ?? process.env;
  return platformStateDir(options.platform ?? process.platform, env, options.homedir ?? (env.HOME || homedir()));
}

/** The trust store of these options. */
export function trustStoreOf(options: LoadConfigOptions = {}): string {
  return trustStorePath(stateDirOf(options));
}

/** The working directory's proxy.config.json, when discovery would look at it (no --config, no MCP_KEYPROXY_CONFIG). */
export async function workingDirectoryConfig(options: LoadConfigOptions = {}): Promise<string | undefined> {
  const candidate = configCandidates(options).find((c) => c.needsTrust);
  return candidate && exists(candidate.path) ? candidate.path : undefined;
}

/** The project file that applies in `cwd`: `.mcp-keyproxy.json` there or in the nearest parent that has one. */
export async function findProjectFile(cwd: string): Promise<string | undefined> {
  for (let dir = path.resolve(cwd); ;) {
    const file = path.join(dir, PROJECT_FILE_NAME);
    if (exists(file)) return file;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The report of a file left unused because it is not trusted. */
function untrustedFile(file: string, kind: UntrustedFile['kind'], state: UntrustedFile['state'], instead: string): UntrustedFile {
  const why =
    state === 'changed'
      ? 'has changed since you trusted it, so it is not used until you trust it again'
      : 'is not trusted, so it is not used';
  const risk = 'a cloned repository could ship one to run its own command with your keys';
  const what = kind === 'project' ? `The project file ${file}` : `${file} (a config in the working directory)`;
  return {
    path: file,
    kind,
    state,
    message: `${what} ${why} (${risk}); ${instead}. If you wrote it or have read it, trust it: mcp-keyproxy trust ${file}`,
  };
}

// The config's files are read with synchronous calls: a client's start waits for them and has nothing else to do
// meanwhile (the keychain read runs on its own thread), and each asynchronous call costs a thread-pool round trip.
function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw new KeyproxyError('CONFIG_INVALID', `cannot access config file ${file} (${code ?? 'unknown error'})`, { cause: error });
  }
}

/**
 * The config file to use and its text; throws `CONFIG_NOT_FOUND` listing where it looked and how to create one. A
 * config in the working directory is used only while trusted; otherwise it is reported in `untrusted` and the
 * search goes on.
 */
async function locateConfig(options: LoadConfigOptions, untrusted: UntrustedFile[]): Promise<{ file: string; text: string }> {
  const candidates = configCandidates(options);
  let skipped: string | undefined;
  let skippedState: UntrustedFile['state'] = 'untrusted';
  for (const candidate of candidates) {
    if (!exists(candidate.path)) continue;
    const text = readConfigText(candidate.path);
    if (!candidate.needsTrust) {
      if (skipped) untrusted.push(untrustedFile(skipped, 'config', skippedState, `using ${candidate.path} instead`));
      return { file: candidate.path, text };
    }
    const state = trustState(trustStoreOf(options), candidate.path, text);
    if (state === 'trusted') return { file: candidate.path, text };
    skipped = candidate.path;
    skippedState = state;
  }
  const looked = candidates.map((c) => `  ${c.path} (${c.source})`).join('\n');
  const create = `Create one from proxy.config.example.json (shipped with mcp-keyproxy)`;
  const first = candidates[0];
  const message =
    first?.explicit === true
      ? `config file not found: ${first.path} (from ${first.source}) does not exist.\n${create}, or fix the path.`
      : `no config file found. Looked in:\n${looked}\n${create} in one of these places, or pass --config <file> or set MCP_KEYPROXY_CONFIG.`;
  const notice = skipped ? `\n${untrustedFile(skipped, 'config', skippedState, 'no other config was found').message}` : '';
  throw new KeyproxyError('CONFIG_NOT_FOUND', message + notice);
}

/** Largest config file read: a config is a few kilobytes; far more is a mistake, not a config. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * The text of the config file. A FIFO, socket or device is refused at once instead of hanging on a read: checked
 * before opening (so a device is never opened), and again on the handle, opened without blocking, so nothing can
 * be swapped in between. Reads at most MAX_CONFIG_BYTES.
 */
function readConfigText(file: string): string {
  const refuse = (why: string, cause?: unknown): KeyproxyError =>
    new KeyproxyError('CONFIG_INVALID', `cannot read config file ${file}: ${why}`, { cause });
  const tooBig = (): KeyproxyError =>
    refuse(`it is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB, the most a config may be. Check the path, or shorten the file.`);
  const check = (info: Stats): void => {
    if (info.isDirectory()) throw refuse('it is a directory');
    if (!info.isFile()) throw refuse('it is not a regular file (a FIFO, socket or device). Point --config at a JSON file.');
    if (info.size > MAX_CONFIG_BYTES) throw tooBig();
  };
  const failed = (error: unknown): never => {
    if (error instanceof KeyproxyError) throw error;
    throw refuse((error as NodeJS.ErrnoException).code ?? 'unknown error', error);
  };
  let fd: number;
  try {
    check(statSync(file));
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. Not defined on Windows.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    return failed(error);
  }
  try {
    const info = fstatSync(fd);
    check(info);
    // The file may grow after the stat: read into a buffer one byte longer than it was, growing up to the limit.
    let buffer = Buffer.allocUnsafe(info.size + 1);
    let length = 0;
    for (;;) {
      const bytesRead = readSync(fd, buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_CONFIG_BYTES) throw tooBig();
      if (length === buffer.length) {
        const larger = Buffer.allocUnsafe(Math.min(buffer.length * 2, MAX_CONFIG_BYTES + 1));
        buffer.copy(larger);
        buffer = larger;
      }
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * Finds, reads and validates the config (see `configCandidates` for the discovery order), then applies the project
 * file of the working directory when the user trusts it. Files left unused for want of trust are in `untrusted`.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const untrusted: UntrustedFile[] = [];
  const { file, text } = await locateConfig(options, untrusted);
  const catalog = await validated(options, file, text);
  const layered = options.project === false ? catalog : await withProjectFile(options, catalog, untrusted);
  return untrusted.length > 0 ? { ...layered, untrusted } : layered;
}

/** The config of `file` (content `text`), validated now or by an earlier start (the validation cache). */
async function validated(options: LoadConfigOptions, file: string, text: string): Promise<LoadedConfig> {
  const cacheDir = path.join(
    platformStateDir(options.platform ?? process.platform, options.env ?? process.env, options.homedir ?? homedir()),
    'config-cache',
  );
  const cached = readValidatedCache(cacheDir, file, text);
  if (cached) return cached;
  // zod is the heaviest import of the start-up path: it is loaded only when this file's content was not
  // validated before.
  const { parseConfig } = await import('./parse.js');
  const config = parseConfig(text, file);
  await writeValidatedCache(cacheDir, config, text);
  return config;
}

/** `catalog` with the project file of the working directory applied when trusted; reported in `untrusted` if not. */
async function withProjectFile(options: LoadConfigOptions, catalog: LoadedConfig, untrusted: UntrustedFile[]): Promise<LoadedConfig> {
  const project = await findProjectFile(options.cwd ?? process.cwd());
  if (!project) return catalog;
  const text = readConfigText(project);
  const state = trustState(trustStoreOf(options), project, text);
  if (state !== 'trusted') {
    untrusted.push(untrustedFile(project, 'project', state, `only ${catalog.path} applies`));
    return catalog;
  }
  const { applyProjectFile } = await import('./project-apply.js');
  return applyProjectFile(catalog, text, project);
}

/** The named server of a loaded config, or undefined (never an inherited property such as `toString`). */
export function configuredServer(config: LoadedConfig | undefined, name: string): ServerConfig | undefined {
  return config && Object.hasOwn(config.servers, name) ? config.servers[name] : undefined;
}

/** The named server of a loaded config; throws `SERVER_UNKNOWN` listing the known names. */
export function findServer(config: LoadedConfig, name: string): ServerConfig {
  if (Object.hasOwn(config.servers, name)) return config.servers[name] as ServerConfig;
  const known = Object.keys(config.servers);
  const list = known.length > 0 ? `known servers: ${known.join(', ')}` : 'it defines no servers';
  const closest = closestName(name, known);
  const hint = closest ? `. Did you mean "${closest}"?` : '';
  const where = config.project ? `${config.path} or ${config.project}` : config.path;
  const notTrusted = (config.untrusted ?? []).map((file) => `\n${file.message}`).join('');
  throw new KeyproxyError('SERVER_UNKNOWN', `no server "${name}" in ${where}; ${list}${hint}${notTrusted}`);
}
