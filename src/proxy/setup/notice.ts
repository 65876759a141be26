import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { toolText, type SetupCallExtra } from './setup-server.js';

/** How often the notice is repeated in progress notifications while a prompt is open. */
export const PROGRESS_EVERY_MS = 10_000;

/**
 * What the user must see while a prompt is open (the native dialog's verification code), shared by every tool call
 * that joins the prompt. Set once the code exists, so no text speaks of a window before it is being opened.
 */
export class PromptNotice {
  private text: string | undefined;
  private waiters: Array<(text: string) => void> = [];

  /** The prompt is opening: this is what to tell the user. */
  set(text: string): void {
    this.text = text;
    for (const waiter of this.waiters.splice(0)) waiter(text);
  }

  /** The prompt is over: the calls still waiting for its notice will not get one. */
  clear(): void {
    this.text = undefined;
    this.waiters = [];
  }

  /** Resolves with the notice once there is one. */
  next(): Promise<string> {
    return this.text !== undefined ? Promise.resolve(this.text) : new Promise((resolve) => this.waiters.push(resolve));
  }
}

/**
 * Keeps one tool call informed while `pending` (a prompt, then a server start) runs: with a progress token, the
 * notice goes out as progress (repeated) and the call answers with the result; without one, the call answers with
 * the notice as soon as it is known — the rest goes on, and its tools are announced with `tools/list_changed` — or
 * with the result when that comes first (an elicitation prompt has no notice).
 */
export async function answerWithNotice(
  extra: SetupCallExtra,
  notice: PromptNotice,
  pending: Promise<CallToolResult>,
  whenDone: string,
): Promise<CallToolResult> {
  const progressToken = extra._meta?.progressToken;
  if (progressToken === undefined) {
    const first = await Promise.race([notice.next(), pending]);
    return typeof first === 'string' ? toolText(`${first} ${whenDone}`) : first;
  }
  let progress = 0;
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  void notice.next().then((text) => {
    // The notice may come after the call ended (a later prompt): no progress for a finished call.
    if (done) return;
    const send = (): void =>
      void extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress: ++progress, message: text } });
    send();
    timer = setInterval(send, PROGRESS_EVERY_MS);
    timer.unref();
  });
  try {
    return await pending;
  } finally {
    done = true;
    clearInterval(timer);
  }
}
