import { randomUUID } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { credentialTemplate, type FormValues } from '../../dialog/template.js';
import { newVerificationCode } from '../../dialog/verification-code.js';
import { KeyproxyError } from '../../errors.js';
import type { KeyPage } from '../../page/key-page.js';
import type { CollectOptions } from './collect.js';
import { answerWithNotice, PromptNotice } from './notice.js';
import { missingNames, takePromptLock } from './prompt-lock.js';
import { connectedText, toolText, type SetupCallExtra } from './setup-server.js';

/** What the page flow needs beyond the dialog flow's options. */
export interface PageCollectOptions extends CollectOptions {
  /** Opens the link in the user's browser; absent: the link is only shown in the client. */
  openBrowser?: (url: string) => Promise<void>;
  /** Milliseconds the link stays valid (default and most: 10 minutes). */
  ttlMs?: number;
}

/**
 * The setup tool through the browser: serves a one-time page on 127.0.0.1 (src/page/) showing a fresh verification
 * code and the declared fields, and tells the client where it is — with URL-mode elicitation when the client has it
 * (then `notifications/elicitation/complete` when the page is done), else in progress notifications or the tool
 * result, with the page opened in the browser. What is submitted goes into the keychain and nowhere else; then the
 * server starts. Cancel on either side ends the other: a declined elicitation or a cancelled call closes the page,
 * Cancel in the page ends the call and the elicitation.
 */
export async function collectThroughPage(options: PageCollectOptions, extra: SetupCallExtra): Promise<CallToolResult> {
  const { serverName, logger, audit } = options;
  const code = newVerificationCode();
  const pageAbort = new AbortController();
  const abort = AbortSignal.any([options.stopSignal, extra.signal, pageAbort.signal]);
  // One prompt per server across every mcp-keyproxy process, page or dialog alike.
  const { lock: lockPromise, owned } = await takePromptLock(serverName, abort);
  const { openKeyPage, PAGE_TTL_MS } = await import('../../page/key-page.js');
  const ttlMs = Math.min(options.ttlMs ?? PAGE_TTL_MS, PAGE_TTL_MS);
  const minutes = Math.max(1, Math.round(ttlMs / 60_000));
  const urlMode = owned && options.setup.clientHasUrlElicitation();
  const notice = new PromptNotice();
  if (!owned) {
    notice.set(
      `Another mcp-keyproxy process is already asking for the credentials of ${serverName} in a window or a browser page on this computer; finish it there.`,
    );
  }

  /** Stores what the page accepted; a problem comes back to the page, which lets the user try again. */
  const accept = async (values: FormValues): Promise<string | undefined> => {
    const entered = Object.entries(values).filter(([name, value]) => options.names.includes(name) && value.length > 0);
    audit.dialogSubmitted(
      serverName,
      entered.map(([name]) => name),
    );
    try {
      for (const [name, value] of entered) {
        await options.store.set(serverName, name, value);
        audit.secretStored(serverName, name, 'page');
      }
    } catch (error) {
      // The store's messages name the secret and the fix, never the value.
      logger.warn({ server: serverName, err: error }, 'the key page could not store its values');
      return error instanceof KeyproxyError ? error.message : 'the keychain did not store the values';
    }
    logger.info({ server: serverName, secrets: entered.map(([name]) => name) }, 'key page submitted; secrets stored');
    return undefined;
  };

  /** Tells the user where the page is: URL-mode elicitation, else the browser and the call's notice. */
  const announce = async (page: KeyPage): Promise<void> => {
    if (urlMode) {
      sendUrlElicitation(options, extra, page, code, minutes, () => pageAbort.abort());
      return;
    }
    let opened = false;
    if (options.openBrowser) {
      opened = await options.openBrowser(page.url).then(
        () => true,
        () => false,
      );
    }
    notice.set(
      `Open ${page.url} in your browser on this computer${opened ? ' (it has been opened for you)' : ''}. Check that the page shows the code ${code}, then type the credentials for ${serverName} there — never in this chat. The link works once and expires in ${minutes} minutes.`,
    );
  };

  const run = async (): Promise<CallToolResult> => {
    const lock = await lockPromise;
    try {
      if (lock.waited && (await missingNames(options.store, serverName, options.names)).length === 0) {
        // The other process stored the credentials meanwhile: use its result.
        return toolText(connectedText(serverName, await options.start()));
      }
      const template = credentialTemplate(serverName, options.server.secrets, options.names, code, { clientName: options.clientName });
      const page = await openKeyPage({
        template,
        ttlMs,
        signal: abort,
        accept,
        onRefused: (reason) => logger.warn({ server: serverName, reason }, 'key page refused a request'),
      });
      logger.info({ server: serverName, secrets: options.names, port: Number(new URL(page.url).port) }, 'key page opened');
      audit.dialogShown(serverName, options.names);
      await announce(page);
      const end = await page.ended;
      if (end === 'submitted') return toolText(connectedText(serverName, await options.start()));
      const by = end === 'expired' ? 'expired' : end === 'cancelled' ? 'user' : 'client';
      logger.info({ server: serverName, by }, 'key page ended without values');
      audit.dialogCancelled(serverName, options.names, by);
      return toolText(
        end === 'expired'
          ? `The link for ${serverName} expired after ${minutes} minutes; nothing was stored. Call connect_${serverName} for a new one.`
          : `Cancelled: nothing was stored. Call connect_${serverName} to try again.`,
      );
    } finally {
      await lock.release();
    }
  };

  // A failure after the page (the keychain, or a server that rejects its key) is the call's error result.
  const pending = run().catch((error: unknown) => {
    logger.warn({ server: serverName, err: error }, 'credential flow failed');
    return toolText(error instanceof Error ? error.message : String(error), true);
  });
  // With URL-mode elicitation the client shows the link itself; the call answers when the page is done.
  if (urlMode) return pending;
  return answerWithNotice(extra, notice, pending, `The tools of ${serverName} will appear when you are done.`);
}

/**
 * Sends the link as a URL-mode elicitation (MCP 2025-11-25): the client shows it and opens it if the user agrees. A
 * decline or cancel closes the page; once the page is done, the request is withdrawn if still open and the client is
 * told with `notifications/elicitation/complete`.
 */
function sendUrlElicitation(
  options: PageCollectOptions,
  extra: SetupCallExtra,
  page: KeyPage,
  code: string,
  minutes: number,
  closePage: () => void,
): void {
  const { serverName, logger, setup } = options;
  const elicitationId = randomUUID();
  const withdraw = new AbortController();
  const message = `Enter the credentials for ${serverName} (${options.names.join(', ')}) in the page this link opens in your browser, on this computer. Check that it shows the code ${code}. The link works once and expires in ${minutes} minutes.`;
  setup.server
    .elicitInput(
      { mode: 'url', elicitationId, url: page.url, message },
      { signal: AbortSignal.any([withdraw.signal, extra.signal]), timeout: minutes * 60_000 },
    )
    .then(
      (answer) => {
        if (answer.action === 'accept') return;
        logger.info({ server: serverName, action: answer.action }, 'credential page declined in the client');
        closePage();
      },
      // Withdrawn, timed out, or the client failed it: the page stays until it ends on its own.
      () => undefined,
    );
  void page.ended.then(async () => {
    withdraw.abort();
    await setup.server
      .createElicitationCompletionNotifier(elicitationId)()
      .catch((error: unknown) => logger.debug({ server: serverName, err: error }, 'elicitation completion not delivered'));
  });
}
