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
  /** Opens the keychain; called only by commands that need it. */
  openStore(): SecretStore;
  /** The native dialog; nothing is shown until it is used. */
  openDialog(): CredentialDialog;
}

/** Writes one line. */
export function writeLine(stream: Writable, text = ''): void {
  stream.write(`${text}\n`);
}
