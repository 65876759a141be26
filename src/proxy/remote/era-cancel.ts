import type { RequestId } from '@modelcontextprotocol/sdk/types.js';

/**
 * The 2026-era requests whose POSTs are open, each with an abort of its own: in the stateless era a request is
 * cancelled by closing its HTTP exchange, not with `notifications/cancelled` (there is no session to send it in).
 * The session transport registers each 2026-era request as it goes out and aborts one when the client cancels it (the
 * fetch links its POST to that abort), and forgets it once answered.
 */
export class EraRequests {
  private readonly open = new Map<RequestId, AbortController>();
  private readonly cancelled = new Set<RequestId>();

  /** Request `id` is a 2026-era one on its way: from now on `cancel(id)` aborts its POST, sent or not. */
  expect(id: RequestId): void {
    this.open.set(id, new AbortController());
    this.cancelled.delete(id);
  }

  /** A signal for the POST of request `id`, aborted when `follow` is (the session's) or when `cancel(id)` is called. */
  signalFor(id: RequestId, follow: AbortSignal | undefined): AbortSignal {
    const controller = this.open.get(id) ?? new AbortController();
    if (this.cancelled.has(id)) controller.abort(new Error('the client cancelled the request'));
    if (follow?.aborted) controller.abort(follow.reason);
    else follow?.addEventListener('abort', () => controller.abort(follow.reason), { once: true, signal: controller.signal });
    return controller.signal;
  }

  /** True while request `id` is a 2026-era one whose POST may still be open. */
  has(id: RequestId): boolean {
    return this.open.has(id);
  }

  /** Aborts the POST of `id`; false when it is not an open 2026-era request. */
  cancel(id: RequestId): boolean {
    const controller = this.open.get(id);
    if (!controller) return false;
    this.open.delete(id);
    this.cancelled.add(id);
    controller.abort(new Error('the client cancelled the request'));
    return true;
  }

  /** True (once) when `id` ended because the client cancelled it: nothing is owed to the client for it. */
  takeCancelled(id: RequestId): boolean {
    return this.cancelled.delete(id);
  }

  /** Request `id` was answered. */
  settled(id: RequestId): void {
    this.open.delete(id);
  }
}
