/** `data.login` of the answer to a request a server refused because it wants an OAuth login (see `failureResponse`). */
export const LOGIN_REQUIRED_MARK = 'oauth';

/** True for the error object of such an answer (or an error made of it that keeps its `data`). */
export function isLoginRequiredAnswer(error: unknown): boolean {
  const data = (error as { data?: { login?: unknown } } | undefined)?.data;
  return data?.login === LOGIN_REQUIRED_MARK;
}
