import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { isInitializedNotification, isInitializeRequest } from '../wire/json-rpc.js';
import { withDeadline } from '../../timing/deadline.js';

/** How long messages after `notifications/initialized` wait at most for the GET event stream to open or be refused. */
export const GET_STREAM_WAIT_MS = 2000;
/** How long messages after a handshake step wait at most for its POST to return. */
const POST_WAIT_MS = 10_000;

/**
 * Keeps a 2025 session's start in the order a direct SDK client gives it, when the client writes its messages back
 * to back: nothing goes out before the POST of `initialize` returned (the session id is known), nor before the
 * POST of `notifications/initialized` returned and the GET event stream it opens was answered (opened or
 * refused; at most `GET_STREAM_WAIT_MS`). Otherwise a tool call can reach the server before that stream exists, and
 * a request the server then sends on it (elicitation, sampling) is lost. Both waits are bounded: a slow server
 * gets today's order, never a stuck session. Messages keep their order.
 */
export class HandshakeHold {
  private held: Promise<void> | undefined;
  private getAnswered: (() => void) | undefined;

  /**
   * Sends `message` with `send` once the handshake steps before it are done; `expectsGetStream` says, when
   * `notifications/initialized` goes out, whether the transport opens a GET stream after it (Streamable HTTP does).
   */
  async pass(message: JSONRPCMessage, send: () => Promise<void>, expectsGetStream: () => boolean): Promise<void> {
    const before = this.held;
    const isStep = isInitializeRequest(message) || isInitializedNotification(message);
    let release = (): void => undefined;
    if (isStep) {
      const held = new Promise<void>((resolve) => (release = resolve));
      this.held = held;
      void held.then(() => {
        if (this.held === held) this.held = undefined;
      });
    }
    if (before) await before;
    if (!isStep) return send();
    const getStream = isInitializedNotification(message) && expectsGetStream() ? this.expectGetStream() : undefined;
    const sent = send();
    const done = sent.then(() => (getStream ? withDeadline(getStream, GET_STREAM_WAIT_MS, () => undefined) : undefined));
    void withDeadline(done, POST_WAIT_MS, () => undefined)
      .catch(() => undefined)
      .finally(() => {
        this.getAnswered = undefined;
        release();
      });
    return sent;
  }

  /** The transport's GET event stream was answered (any status) or could not be opened. */
  getStreamAnswered(): void {
    this.getAnswered?.();
  }

  private expectGetStream(): Promise<void> {
    return new Promise<void>((resolve) => (this.getAnswered = resolve));
  }
}
