/**
 * The HTTP status behind an SDK transport error, when there is one. The Streamable HTTP transport and the SSE
 * event stream put it in `code`; the SSE transport's POST puts it only in the message ("(HTTP 404)").
 */
export function httpStatusOf(error: unknown): number | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'number' && code >= 100 && code <= 599) return code;
  const match = /\(HTTP (\d{3})\)/.exec(error.message);
  return match ? Number(match[1]) : undefined;
}

/** True for 401 and 403: the server refused the credentials. */
export function isAuthStatus(status: number | undefined): boolean {
  return status === 401 || status === 403;
}

/**
 * How old HTTP+SSE servers answer a Streamable HTTP POST (no such route, or method not allowed): the cue to fall
 * back to SSE. Auth, timeout and rate-limit answers are not: they mean the endpoint exists.
 */
export function isSseFallbackStatus(status: number | undefined): boolean {
  return status !== undefined && status >= 400 && status < 500 && ![401, 403, 408, 429].includes(status);
}

/**
 * True when the server says the session is gone: 404 per the spec; many servers built from the SDK examples
 * answer 400 "No valid session ID provided" instead, so a 400 that speaks of the session counts too.
 */
export function isSessionGone(error: unknown): boolean {
  const status = httpStatusOf(error);
  if (status === 404) return true;
  return status === 400 && error instanceof Error && /session/i.test(error.message);
}
