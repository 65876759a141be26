import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { CLIENT_NAMES, clientFiles, type ClientFile, type ClientName } from '../clients/catalog.js';
import type { Launcher } from '../clients/plan.js';
import { CONFIG_FILE_NAME, platformConfigDir, platformStateDir } from '../config/paths.js';
import { KeyproxyError } from '../errors.js';
import { packageRoot } from '../package-root.js';
import type { CliContext } from './context.js';

/** Where the client commands read and write: the user's files, the proxy's user config, the state directory. */
export interface ClientSetup {
  files: ClientFile[];
  configPath: string;
  stateDir: string;
}

/** The files of the clients named (all when none), the proxy config (`--config` or the user config dir). */
export function clientSetup(ctx: CliContext, clients: readonly string[] | undefined, config?: string): ClientSetup {
  const home = ctx.env.HOME || homedir();
  const env = { platform: process.platform, env: ctx.env, home, cwd: ctx.cwd, listDir: (dir: string) => safeList(dir) };
  const names = checkClients(clients);
  return {
    files: clientFiles(env).filter((file) => names === undefined || names.includes(file.client)),
    configPath: config ? path.resolve(ctx.cwd, config) : path.join(platformConfigDir(process.platform, ctx.env, home), CONFIG_FILE_NAME),
    stateDir: platformStateDir(process.platform, ctx.env, home),
  };
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The client names given, checked; undefined for every client. */
export function checkClients(clients: readonly string[] | undefined): ClientName[] | undefined {
  if (clients === undefined || clients.length === 0) return undefined;
  for (const name of clients) {
    if (!(CLIENT_NAMES as readonly string[]).includes(name)) {
      throw new KeyproxyError('USAGE', `unknown client "${name}"; use one of: ${CLIENT_NAMES.join(', ')}.`);
    }
  }
  return clients as ClientName[];
}

/** How a rewritten entry starts the proxy: this node and this bin by absolute path (GUI apps have a short PATH), or npx. */
export function launcher(npx: boolean | undefined): Launcher {
  return npx
    ? { command: 'npx', args: ['-y', 'mcp-keyproxy'] }
    : { command: process.execPath, args: [path.join(packageRoot, 'bin', 'mcp-keyproxy.js')] };
}

/** Asks a yes/no question on the terminal; without one, `--yes` is required. */
export function confirmer(ctx: CliContext, yes: boolean | undefined): (question: string) => Promise<boolean> {
  return async (question) => {
    if (yes) return true;
    if (!ctx.stdin.isTTY)
      throw new KeyproxyError(
        'USAGE',
        'Refusing to change files without confirmation: stdin is not a terminal. Add --yes (or --dry-run to see the plan).',
      );
    const readline = createInterface({ input: ctx.stdin, output: ctx.stderr });
    try {
      return /^y(es)?$/i.test((await readline.question(question)).trim());
    } finally {
      readline.close();
    }
  };
}

/** Collects a repeatable option. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
