import { runCli } from './cli/program.js';
import type { SecretStore } from './secrets/store.js';
import { KeyringStore } from './secrets/keyring-store.js';
import { nativeCredentialDialog } from './dialog/credential-dialog.js';

/** The process entry: runs the CLI against the real process and keychain, then exits with its code. */
export async function main(argv: readonly string[]): Promise<never> {
  let store: SecretStore | undefined;
  const code = await runCli(argv, {
    env: process.env,
    cwd: process.cwd(),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    openStore: () => (store ??= new KeyringStore()),
    openDialog: () => nativeCredentialDialog(),
  });
  process.exit(code);
}
