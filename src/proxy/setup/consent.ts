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

/**
 * Asks the user whether stored secrets may be injected into a server start: in the MCP client by elicitation
 * (a choice, never a secret) when the client has it, else in the native dialog's confirm mode. Anything but an
 * explicit allow is a deny.
 */
export async function askConsent(options: {
  serverName: string;
  secretNames: readonly string[];
  setup: SetupServer;
  dialog: CredentialDialog;
  signal: AbortSignal;
  logger: Logger;
  audit: AuditLog;
  /** The MCP client's `clientInfo.name`, named in the native dialog (untrusted; the dialog bounds it). */
  clientName?: string;
}): Promise<ConsentDecision> {
  const { serverName, secretNames, setup, logger } = options;
  let decision: ConsentDecision = 'deny';
  let via: 'elicitation' | 'dialog' = 'dialog';
  try {
    if (setup.clientHasFormElicitation()) {
      via = 'elicitation';
      const answer = await setup.server.elicitInput(
        {
          mode: 'form',
          message: `mcp-keyproxy: allow the MCP server "${serverName}" to start with your stored secrets (${secretNames.join(', ')})?`,
          requestedSchema: {
            type: 'object',
            properties: { decision: { type: 'string', title: 'Decision', oneOf: [...CHOICES] } },
            required: ['decision'],
          },
        },
        { signal: options.signal, timeout: 10 * 60_000 },
      );
      const chosen = answer.action === 'accept' ? answer.content?.decision : undefined;
      decision = CHOICES.some((choice) => choice.const === chosen) ? (chosen as ConsentDecision) : 'deny';
    } else {
      // The client cannot show a prompt, but it can show a log line: the code tells the real dialog from a fake.
      const code = newVerificationCode();
      await setup.server
        .sendLoggingMessage({
          level: 'notice',
          logger: 'mcp-keyproxy',
          data: `A window "mcp-keyproxy: allow ${serverName} to use its credentials?" has opened on this computer with the code ${code}.`,
        })
        .catch(() => undefined);
      decision = await options.dialog.confirm(serverName, secretNames, code, options.signal, options.clientName);
    }
  } catch (error) {
    logger.warn({ server: serverName, via, err: error }, 'consent prompt failed; treating it as deny');
    decision = 'deny';
  }
  logger.info({ server: serverName, via, decision, secrets: secretNames }, 'consent decision');
  options.audit.consent(serverName, secretNames, decision);
  return decision;
}
