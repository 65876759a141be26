/**
 * The 2026 era's multi-round-trip requests, for a 2025 client: a server that needs the client's input (an
 * elicitation, a sampling, its roots) answers `tools/call`, `prompts/get` or `resources/read` with an
 * `input_required` result; the bridge asks the client each embedded request as a real server→client request and
 * sends the original request again with the answers (`inputResponses`) and the server's `requestState`.
 */

/** Rounds of input one request may take before the bridge gives up on it (a server that never completes). */
export const MAX_INPUT_ROUNDS = 8;

/** The pause before retrying when the server asked for no input but a retry with its state (as the v2 SDK paces). */
export const STATE_ONLY_PAUSE_MS = 250;

/** One embedded request of an `input_required` result. */
export interface InputRequest {
  method: string;
  params?: Record<string, unknown>;
}

/** An `input_required` result. */
export interface InputRequired {
  resultType: 'input_required';
  inputRequests?: Record<string, InputRequest>;
  requestState?: string;
}

export function isInputRequired(result: unknown): result is InputRequired {
  return typeof result === 'object' && result !== null && (result as { resultType?: unknown }).resultType === 'input_required';
}

/** Asks the client one request and resolves with its result (rejects with its error). */
export type AskClient = (method: string, params: Record<string, unknown> | undefined) => Promise<Record<string, unknown>>;

/** Asks the client every embedded request at once; resolves with the answers keyed as the server keyed them. */
export async function answerInputs(result: InputRequired, ask: AskClient): Promise<Record<string, unknown> | undefined> {
  const entries = Object.entries(result.inputRequests ?? {});
  if (entries.length === 0) return undefined;
  const answers = await Promise.all(entries.map(async ([key, request]) => [key, await ask(request.method, request.params)] as const));
  return Object.fromEntries(answers);
}

/** The original request's params for the next round: the answers and the server's state added (never stacked). */
export function retryParams(
  params: Record<string, unknown>,
  answers: Record<string, unknown> | undefined,
  requestState: string | undefined,
): Record<string, unknown> {
  const rest = { ...params };
  delete rest.inputResponses;
  delete rest.requestState;
  return {
    ...rest,
    ...(answers === undefined ? {} : { inputResponses: answers }),
    ...(requestState === undefined ? {} : { requestState }),
  };
}
