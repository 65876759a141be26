import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../log/logger.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { ServerConfig } from '../../config/schema.js';
import { characterLength, MIN_STORED_LENGTH } from '../../log/scrubber.js';
import { newVerificationCode } from '../../dialog/verification-code.js';
import type { SecretStore } from '../../secrets/store.js';
import type { CredentialDialog } from '../../dialog/credential-dialog.js';
import { answerWithNotice, PromptNotice } from './notice.js';
import { connectedText, toolText, type SetupCallExtra, type SetupServer } from './setup-server.js';
import { missingNames, takePromptLock } from './prompt-lock.js';

/** Everything the credential flow of one setup-tool call needs. */
export interface CollectOptions {
  serverName: string;
  server: ServerConfig;
  /** The secrets to ask for. */
  names: readonly string[];
  setup: SetupServer;
  dialog: CredentialDialog;
  store: SecretStore;
  logger: Logger;
  audit: AuditLog;
  /** Aborted when the proxy stops: the dialog must not outlive it. */
  stopSignal: AbortSignal;
  /** Starts the downstream once the values are stored; resolves with its tool names. */
  start: () => Promise<string[]>;
  /** The MCP client's `clientInfo.name`, named in the dialog (untrusted; the dialog bounds it). */
  clientName?: string;
}

/**
 * The setup tool: opens the native dialog with a fresh verification code and shows the same code in the client
 * (elicitation, else progress notifications, else the tool result), stores what the user typed in the keychain
 * and starts the server. Secret values never pass through the client.
 */
export async function collectCredentials(options: CollectOptions, extra: SetupCallExtra): Promise<CallToolResult> {
  const { serverName, logger } = options;
  const code = newVerificationCode();
  const dialogAbort = new AbortController();
  const abort = AbortSignal.any([options.stopSignal, extra.signal, dialogAbort.signal]);
  const tellCode = `A window titled "mcp-keyproxy: credentials for ${serverName}" has opened on this computer. Check that it shows the code ${code}, then type the credentials there — never in this chat.`;

  // One dialog per server across every mcp-keyproxy process: when another one is already asking, say so instead
  // of showing a code that no window on the screen displays.
  const { lock: lockPromise, owned: ownsDialog } = await takePromptLock(serverName, abort);
  const tell = ownsDialog
    ? tellCode
    : `Another mcp-keyproxy process is already asking for the credentials of ${serverName} in a window or a browser page on this computer; finish it there.`;

  const finish = async (): Promise<CallToolResult> => {
    const lock = await lockPromise;
    try {
      if (lock.waited && (await missingNames(options.store, serverName, options.names)).length === 0) {
        // The other process stored the credentials meanwhile: use its result.
        return toolText(connectedText(serverName, await options.start()));
      }
      logger.info({ server: serverName, secrets: options.names }, 'credential dialog shown');
      options.audit.dialogShown(serverName, options.names);
      const values = await options.dialog.collect(serverName, options.server.secrets, options.names, code, abort, options.clientName);
      if (values === null) {
        const by = options.stopSignal.aborted || extra.signal.aborted || dialogAbort.signal.aborted ? 'client' : 'user';
        logger.info({ server: serverName, by }, 'credential dialog cancelled');
        options.audit.dialogCancelled(serverName, options.names, by);
        return toolText(`Cancelled: nothing was stored. Call connect_${serverName} to try again.`);
      }
      const entered = Object.entries(values).filter(([name, value]) => options.names.includes(name) && value.length > 0);
      options.audit.dialogSubmitted(
        serverName,
        entered.map(([name]) => name),
      );
      // The dialog asks for min_length too; a fallback dialog (zenity, macOS, Windows) may not, so this is the rule.
      const tooShort = entered.filter(([, value]) => characterLength(value) < MIN_STORED_LENGTH).map(([name]) => name);
      if (tooShort.length > 0) {
        return toolText(
          `Nothing was stored: the value for ${tooShort.join(', ')} is shorter than ${MIN_STORED_LENGTH} characters, too short to scrub from what ${serverName} sends back. Call connect_${serverName} and enter the whole value.`,
          true,
        );
      }
      for (const [name, value] of entered) {
        await options.store.set(serverName, name, value);
        options.audit.secretStored(serverName, name, 'dialog');
      }
      logger.info({ server: serverName, secrets: entered.map(([name]) => name) }, 'credential dialog submitted; secrets stored');
      return toolText(connectedText(serverName, await options.start()));
    } finally {
      await lock.release();
    }
  };

  if (options.setup.clientHasFormElicitation()) {
    return withElicitation(options, extra, tell, finish, () => dialogAbort.abort());
  }
  const notice = new PromptNotice();
  notice.set(tell);
  // A failure after the dialog (the keychain, or a server that rejects its key) is the call's error result.
  const pending = finish().catch((error: unknown) => {
    logger.warn({ server: serverName, err: error }, 'credential flow failed');
    return toolText(error instanceof Error ? error.message : String(error), true);
  });
  return answerWithNotice(extra, notice, pending, `The tools of ${serverName} will appear when you are done.`);
}

/** Runs the dialog while an elicitation shows the code; whichever side is cancelled cancels the other. */
async function withElicitation(
  options: CollectOptions,
  extra: SetupCallExtra,
  message: string,
  finish: () => Promise<CallToolResult>,
  cancelDialog: () => void,
): Promise<CallToolResult> {
  const elicitationAbort = new AbortController();
  const dialogDone = finish().finally(() => elicitationAbort.abort());
  const elicitation = options.setup.server
    .elicitInput(
      {
        mode: 'form',
        message: `${message} Press Continue when you have submitted it.`,
        requestedSchema: { type: 'object', properties: {} },
      },
      { signal: AbortSignal.any([elicitationAbort.signal, extra.signal]), timeout: 10 * 60_000 },
    )
    .catch(() => undefined);
  const first = await Promise.race([dialogDone.then(() => 'dialog' as const), elicitation.then(() => 'elicitation' as const)]);
  if (first === 'elicitation') {
    const answer = await elicitation;
    if (answer !== undefined && answer.action !== 'accept') {
      // Cancel or decline in the client closes the dialog.
      options.logger.info({ server: options.serverName, action: answer.action }, 'credential request cancelled in the client');
      cancelDialog();
    }
  }
  return dialogDone;
}
