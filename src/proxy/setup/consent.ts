import type { Logger } from '../../log/logger.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { ConsentGrant } from '../../consent/grant.js';
import type { ConsentStore } from '../../consent/store.js';
import type { CredentialDialog } from '../../dialog/credential-dialog.js';
import type { DialogLock } from '../../dialog/lock.js';
import type { ConsentDecision } from '../../dialog/template.js';
import { newVerificationCode } from '../../dialog/verification-code.js';
import { takePromptLock } from './prompt-lock.js';
import type { SetupServer } from './setup-server.js';

const CHOICES: ReadonlyArray<{ const: ConsentDecision; title: string }> = [
  { const: 'once', title: 'Allow once' },
  { const: 'session', title: 'Allow for this session' },
  { const: 'always', title: 'Allow always (until the server, its command or its secrets change)' },
  { const: 'deny', title: 'Deny' },
];

/**
 * How a consent prompt ended: the user's decision; `remembered` when an "Allow always" (given here earlier, or in
 * another process while this one waited for its turn) covers this start; or no decision because the prompt could
 * not be shown or was lost.
 */
export type ConsentOutcome = { decision: ConsentDecision } | { remembered: true } | { unanswered: string };

/** Everything one consent prompt needs. */
export interface AskConsentOptions {
  serverName: string;
  secretNames: readonly string[];
  /** What "Allow always" keeps; also looked up first, in case it was given meanwhile. */
  grant: ConsentGrant;
  store: ConsentStore;
  /** `"consent": "dialog"` on the server: only the out-of-band native dialog, never the client's elicitation. */
  dialogOnly: boolean;
  setup: SetupServer;
  dialog: CredentialDialog;
  signal: AbortSignal;
  logger: Logger;
  audit: AuditLog;
  /** Shows what the user must see (the dialog's code, or that another process is asking) where the user looks. */
  tell: (notice: string) => void;
  /** The MCP client's `clientInfo.name`, named in the native dialog (untrusted; the dialog bounds it). */
  clientName?: string;
}

/**
 * Asks the user whether stored secrets may be injected into a server start: in the MCP client by elicitation
 * (a choice, never a secret) when the client has it and the server allows it, else in the native dialog's confirm
 * mode, whose verification code `tell` shows in the client first. One prompt per server at a time across every
 * mcp-keyproxy process of the user (the dialog lock, shared with the credentials dialog). Only an explicit answer
 * is a decision: a dialog that cannot be shown or that ends without an answer (killed, failed) is `unanswered`, with
 * the reason, never a deny. "Allow always" is kept in `store`.
 */
export async function askConsent(options: AskConsentOptions): Promise<ConsentOutcome> {
  const { serverName, secretNames, logger } = options;
  if (options.store.allows(options.grant)) return remembered(options);
  const { lock: lockPromise, owned } = await takePromptLock(serverName, options.signal);
  if (!owned) {
    options.tell(
      `Another mcp-keyproxy process (another AI app, or another window of this one) is already asking on this computer whether ${serverName} may use its stored credentials; answer it there.`,
    );
  }
  let lock: DialogLock;
  try {
    lock = await lockPromise;
  } catch (error) {
    return { unanswered: options.signal.aborted ? 'the proxy stopped before the prompt was answered' : reasonOf(error) };
  }
  const via = options.dialogOnly || !options.setup.clientHasFormElicitation() ? 'dialog' : 'elicitation';
  let decision: ConsentDecision;
  try {
    if (lock.waited) {
      // The other process's answer counts here only when it was "Allow always" for exactly this grant.
      if (options.store.allows(options.grant)) return remembered(options);
      // Its window's code was not this client's: a window opened now would show a code this client never showed.
      if (via === 'dialog') {
        return {
          unanswered: `another mcp-keyproxy process was asking whether ${serverName} may use its stored credentials at the same time, and its answer was not "Allow always"`,
        };
      }
    }
    decision = via === 'elicitation' ? await elicitDecision(options) : await dialogDecision(options);
    if (decision === 'always') await keep(options);
  } catch (error) {
    logger.warn({ server: serverName, via, err: error }, 'consent prompt ended without an answer');
    return { unanswered: reasonOf(error) };
  } finally {
    await lock.release();
  }
  logger.info({ server: serverName, via, decision, secrets: secretNames }, 'consent decision');
  options.audit.consent(serverName, secretNames, decision);
  return { decision };
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function remembered(options: AskConsentOptions): ConsentOutcome {
  options.logger.info({ server: options.serverName, secrets: options.secretNames }, 'consent remembered ("Allow always")');
  options.audit.consent(options.serverName, options.secretNames, 'remembered');
  return { remembered: true };
}

/** Keeps an "Allow always"; a file that cannot be written leaves it an "Allow once", and says so. */
async function keep(options: AskConsentOptions): Promise<void> {
  try {
    await options.store.remember(options.grant);
  } catch (error) {
    options.logger.warn({ server: options.serverName, err: error }, '"Allow always" could not be kept; it counts for this start only');
  }
}

async function elicitDecision(options: AskConsentOptions): Promise<ConsentDecision> {
  const answer = await options.setup.server.elicitInput(
    {
      mode: 'form',
      message: `mcp-keyproxy: allow the MCP server "${options.serverName}" to start with your stored secrets (${options.secretNames.join(', ')})?`,
      requestedSchema: {
        type: 'object',
        properties: { decision: { type: 'string', title: 'Decision', oneOf: [...CHOICES] } },
        required: ['decision'],
      },
    },
    { signal: options.signal, timeout: 10 * 60_000 },
  );
  const chosen = answer.action === 'accept' ? answer.content?.decision : undefined;
  // Declining or cancelling the prompt in the client is the user's answer: no.
  return CHOICES.some((choice) => choice.const === chosen) ? (chosen as ConsentDecision) : 'deny';
}

async function dialogDecision(options: AskConsentOptions): Promise<ConsentDecision> {
  const code = newVerificationCode();
  options.tell(
    `A window "mcp-keyproxy: allow ${options.serverName} to use its credentials?" is opening on this computer with the code ${code}. Allow it there only if it shows this code.`,
  );
  const decision = await options.dialog.confirm(options.serverName, options.secretNames, code, options.signal, options.clientName);
  // Closed because the proxy is stopping: nobody answered.
  if (options.signal.aborted) throw new Error('the proxy stopped before the prompt was answered');
  return decision;
}
