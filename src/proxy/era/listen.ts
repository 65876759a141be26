import type { JSONRPCNotification, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { META } from './envelope.js';

/** The `notifications` filter of a 2026-era `subscriptions/listen`. */
export interface SubscriptionFilter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  resourceSubscriptions?: string[];
}

/**
 * The change notices a 2025 client gets unasked from a server that announces them (list changes), plus the
 * updates of the resources it subscribed to; undefined when there is nothing to listen for.
 */
export function listenFilter(capabilities: ServerCapabilities, subscribed: ReadonlySet<string>): SubscriptionFilter | undefined {
  const filter: SubscriptionFilter = {};
  if (capabilities.tools?.listChanged) filter.toolsListChanged = true;
  if (capabilities.prompts?.listChanged) filter.promptsListChanged = true;
  if (capabilities.resources?.listChanged) filter.resourcesListChanged = true;
  if (capabilities.resources?.subscribe && subscribed.size > 0) filter.resourceSubscriptions = [...subscribed];
  return Object.keys(filter).length > 0 ? filter : undefined;
}

/** The subscription a notification was delivered on, when it names one. */
export function subscriptionOf(notification: JSONRPCNotification): unknown {
  const meta = notification.params?._meta as Record<string, unknown> | undefined;
  return meta?.[META.subscriptionId];
}

/** The notification as a 2025 client knows it: without the subscription stamp of the 2026 era. */
export function withoutSubscription(notification: JSONRPCNotification): JSONRPCNotification {
  const { _meta, ...params } = notification.params ?? {};
  const meta = { ...(_meta as Record<string, unknown> | undefined) };
  delete meta[META.subscriptionId];
  return { ...notification, params: Object.keys(meta).length > 0 ? { ...params, _meta: meta } : params };
}
