import type { Readable, Writable } from 'node:stream';
import type { CredentialDialog } from '../dialog/credential-dialog.js';
import type { SecretStore } from '../secrets/store.js';

/** Everything a command touches outside itself, handed in so commands can be tested without a real process. */
export interface CliContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  /** Human-readable output of the management commands (never used by `run`: there stdout is JSON-RPC). */
  stdout: Writable;
  /** Errors, warnings and prompts. */
  stderr: Writable;
  /** Opens the keychain, with the names of credential `profile` (default: `default`); called only when needed. */
  openStore(profile?: string): SecretStore;
  /**
   * Opens the keychain cache of op:// and command values (service mcp-keyproxy-cache/<server>, or
   * mcp-keyproxy-cache@<profile>/<server>); absent: no cache.
   */
  openCacheStore?(profile?: string): SecretStore;
  /** The native dialog (its titles naming `profile` unless it is the default); nothing is shown until it is used. */
  openDialog(profile?: string): CredentialDialog;
  /** Opens the keychain store of OAuth state (service `mcp-keyproxy-oauth/<server>`); absent: no OAuth. */
  openOAuthStore?(): SecretStore;
  /** Registers a value (an OAuth token, a client secret) that no line written to stderr may show. */
  registerSecret?(label: string, value: string): void;
}

/**
 * Tells running proxies that secrets of `servers` changed (the change stamp in the state directory), so a server
 * running with an old value restarts. A stamp that cannot be written is a warning: the change itself is done.
 */
export async function announceChange(ctx: CliContext, servers: readonly string[]): Promise<void> {
  const { touchChangeStamp } = await import('../secrets/change-stamp.js');
  await touchChangeStamp(servers, ctx.env).catch((error: unknown) =>
    writeLine(ctx.stderr, `warning: running proxies were not told of the change (${(error as Error).message}); restart them to use it.`),
  );
}

/** Writes one line. */
export function writeLine(stream: Writable, text = ''): void {
  stream.write(`${text}\n`);
}
