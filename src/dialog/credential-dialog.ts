import type { SecretDeclaration } from '../config/schema.js';
import { KeyproxyError } from '../errors.js';
import type { DialogDriver, DialogDriverOptions } from './driver.js';
import { consentTemplate, credentialTemplate, type ConsentDecision, type FormValues } from './template.js';

/**
 * The native dialog as the proxy uses it: a credential form and a consent prompt. Handed in as a dependency, so
 * the gated-server logic can be tested without a display.
 */
export interface CredentialDialog {
  /**
   * Shows the form for `names` with the verification code; resolves with the values, or null when cancelled.
   * `app` is the MCP client's name as it gave it (untrusted), shown to say who asks.
   */
  collect(
    serverName: string,
    declarations: Record<string, SecretDeclaration>,
    names: readonly string[],
    code: string,
    signal: AbortSignal,
    app?: string,
  ): Promise<FormValues | null>;
  /** Why no dialog can be shown here, or undefined when one can (see `createDialogDriver`). Absent: it can. */
  unavailable?(): Promise<string | undefined>;
  /** Shows the Allow once / for session / always / Deny prompt; closing it is a deny. `app` as for `collect`. */
  confirm(serverName: string, secretNames: readonly string[], code: string, signal: AbortSignal, app?: string): Promise<ConsentDecision>;
}

/** The real native dialog (GTK, zenity, AppKit or WinForms), chosen on first use. */
export function nativeCredentialDialog(options: DialogDriverOptions & { profile?: string } = {}): CredentialDialog {
  let driver: Promise<DialogDriver> | undefined;
  // Loaded on first use: the driver pulls in execa, which the proxy's start-up path should not pay for.
  const dialogs = (): Promise<DialogDriver> => (driver ??= import('./driver.js').then((module) => module.createDialogDriver(options)));
  return {
    async unavailable() {
      return (await dialogs()).unavailable;
    },
    async collect(serverName, declarations, names, code, signal, app) {
      const template = credentialTemplate(serverName, declarations, names, code, { clientName: app, profile: options.profile });
      const outcome = await (await dialogs()).prompt(template, { signal, server: serverName, profile: options.profile });
      if (outcome.kind === 'failed') throw new KeyproxyError('DIALOG_UNAVAILABLE', `The credentials dialog failed: ${outcome.message}`);
      return outcome.kind === 'submitted' ? outcome.values : null;
    },
    async confirm(serverName, secretNames, code, signal, app) {
      const template = consentTemplate(serverName, secretNames, code, { clientName: app, profile: options.profile });
      const outcome = await (await dialogs()).prompt(template, { signal, server: serverName, profile: options.profile });
      if (outcome.kind === 'failed') throw new KeyproxyError('DIALOG_UNAVAILABLE', `The consent dialog failed: ${outcome.message}`);
      return outcome.kind === 'confirmed' ? outcome.decision : 'deny';
    },
  };
}
