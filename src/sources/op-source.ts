import { runProgram, type ProgramRun } from './run-program.js';
import { OP_TOKEN_ENTRY } from './source.js';
import { tail } from './text.js';

const install = 'install the 1Password CLI (https://developer.1password.com/docs/cli/get-started/) so that "op" is on PATH';
const signIn = `sign in with "op signin", or give the proxy a service-account token: set OP_SERVICE_ACCOUNT_TOKEN, or store it with "mcp-keyproxy secrets set ${OP_TOKEN_ENTRY.server} ${OP_TOKEN_ENTRY.name} --new-server"`;

/** `op`'s stderr (exit status is always 1) turned into what went wrong and the fix. */
export function opProblem(stderr: string): string {
  if (/isn't an item|isn't a vault|isn't a field|no item found|could not find|not found/i.test(stderr)) {
    return `1Password has no such item or field (${tail(stderr, 200)}); check the reference with "op item get" and fix "from"`;
  }
  if (
    /not currently signed in|no accounts configured|not signed in|session expired|authentication|unauthorized|invalid token/i.test(stderr)
  ) {
    return `op is not signed in; ${signIn}`;
  }
  if (/no such host|dial tcp|connection refused|network is unreachable|i\/o timeout|could not reach/i.test(stderr)) {
    return `1Password could not be reached (${tail(stderr, 200)}); check the network, or try again later`;
  }
  if (/rate limit|too many requests|\b429\b/i.test(stderr)) {
    return '1Password refused the read: rate limit reached (service accounts have an hourly read limit); wait and try again';
  }
  return `op failed: ${tail(stderr) || 'no message'}`;
}

/** What a finished `op read` means: the value, or the problem in words. */
export function opOutcome(run: ProgramRun, timeoutMs: number): { value: string } | { problem: string } {
  switch (run.kind) {
    case 'ok':
      return { value: run.stdout };
    case 'missing':
      return { problem: `the 1Password CLI "op" was not found; ${install}` };
    case 'timeout':
      return { problem: `op did not answer within ${timeoutMs / 1000} s (is 1Password reachable?)` };
    case 'too-large':
      return { problem: 'op printed more than a secret should hold' };
    case 'failed':
      return { problem: opProblem(run.stderr) };
  }
}

/** Reads one `op://` reference with `op read --no-newline <ref>`: argv holds only the reference; the token, if any, only the environment. */
export function runOpRead(reference: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ProgramRun> {
  return runProgram(['op', 'read', '--no-newline', reference], env, timeoutMs);
}
