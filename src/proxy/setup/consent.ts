import type { Logger } from 'pino';
import type { AuditLog } from '../../audit/audit-log.js';
import type { ConsentDecision } from '../../dialog/template.js';
import { newVerificationCode } from '../../dialog/verification-code.js';
import type { SetupServer } from './setup-server.js';
import type { CredentialDialog } from '../../dialog/credential-dialog.js';

const CHOICES: ReadonlyArray<{ const: ConsentDecision; title: string }> = [
  { const: 'once', title: 'Allow once' },
  { const: 'session', title: 'Allow for this session' },
  { const: 'deny', title: 'Deny' },
];

/** How a consent prompt ended: the user's decision, or no decision because the prompt could not be shown or was lost. */
export type ConsentOutcome = { decision: ConsentDecision } | { unanswered: string };

/**
 * Asks the user whether stored secrets may be injected into a server start: in the MCP client by elicitation
 * (a choice, never a secret) when the client has it, else in the native dialog's confirm mode, whose verification
 * code `tell` shows in the client first. Only an explicit answer is a decision: a dialog that cannot be shown or that
 * ends without an answer (killed, failed) is `unanswered`, with the reason, never a deny.
 */
export async function askConsent(options: {
  serverName: string;
  secretNames: readonly string[];
  setup: SetupServer;
  dialog: CredentialDialog;
  signal: AbortSignal;
  logger: Logger;
  audit: AuditLog;
  /** Shows the dialog's verification code where the user looks (tool result or progress), before it opens. */
  tell: (notice: string) => void;
  /** The MCP client's `clientInfo.name`, named in the native dialog (untrusted; the dialog bounds it). */
  clientName?: string;
}): Promise<ConsentOutcome> {
  const { serverName, secretNames, setup, logger } = options;
  const via = setup.clientHasFormElicitation() ? 'elicitation' : 'dialog';
  let decision: ConsentDecision;
  try {
    decision = via === 'elicitation' ? await elicitDecision(options) : await dialogDecision(options);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    logger.warn({ server: serverName, via, err: error }, 'consent prompt ended without an answer');
    return { unanswered: reason };
  }
  logger.info({ server: serverName, via, decision, secrets: secretNames }, 'consent decision');
  options.audit.consent(serverName, secretNames, decision);
  return { decision };
}

async function elicitDecision(options: Parameters<typeof askConsent>[0]): Promise<ConsentDecision> {
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

async function dialogDecision(options: Parameters<typeof askConsent>[0]): Promise<ConsentDecision> {
  const code = newVerificationCode();
  options.tell(
    `A window "mcp-keyproxy: allow ${options.serverName} to use its credentials?" is opening on this computer with the code ${code}. Allow it there only if it shows this code.`,
  );
  const decision = await options.dialog.confirm(options.serverName, options.secretNames, code, options.signal, options.clientName);
  // Closed because the proxy is stopping: nobody answered.
  if (options.signal.aborted) throw new Error('the proxy stopped before the prompt was answered');
  return decision;
}
