import { randomBytes } from 'node:crypto';
import { runProgram, type ProgramRun } from './run-program.js';
import { OP_TOKEN_ENTRY } from './source.js';
import { MAX_SOURCE_BYTES, tail } from './text.js';

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

/**
 * True when a reference can go in an `op inject` template as it is: nothing that would end its `{{ … }}`, start
 * another, or that inject would read as a variable (`$VAR`), and no surrounding space it would trim. Any other
 * reference is read on its own with `op read`.
 */
export function injectable(reference: string): boolean {
  return !/[{}$\r\n]/.test(reference) && reference.trim() === reference;
}

/** The template of one `op inject` and how to take its output apart again. */
export interface InjectTemplate {
  text: string;
  /** The value of each reference, in order; undefined when the output is not the template filled in. */
  split(output: string): string[] | undefined;
}

/**
 * Each reference between two markers carrying a random nonce and its index: `<kp:NONCE:i>{{ ref }}</kp:NONCE:i>`.
 * The output is taken only if it is exactly those markers, in order, each once, with values between them that hold
 * no nonce: a value may hold newlines, quotes, braces or text like a marker, and still comes back whole and in its
 * own place; anything else (op changed the text around the references) is refused.
 */
export function injectTemplate(references: readonly string[]): InjectTemplate {
  const nonce = randomBytes(16).toString('hex');
  const open = (index: number): string => `<kp:${nonce}:${index}>`;
  const close = (index: number): string => `</kp:${nonce}:${index}>`;
  return {
    text: references.map((reference, index) => `${open(index)}{{ ${reference} }}${close(index)}`).join(''),
    split(output) {
      const values: string[] = [];
      let at = 0;
      for (let index = 0; index < references.length; index++) {
        if (!output.startsWith(open(index), at)) return undefined;
        at += open(index).length;
        const end = output.indexOf(close(index), at);
        if (end === -1) return undefined;
        const value = output.slice(at, end);
        if (value.includes(nonce)) return undefined;
        values.push(value);
        at = end + close(index).length;
      }
      return at === output.length ? values : undefined;
    },
  };
}

/** What one `op inject` of several references gave: every value in order, or why not (then each is read alone). */
export type InjectOutcome = { kind: 'values'; values: string[] } | { kind: 'malformed' } | { kind: 'run'; run: ProgramRun };

/**
 * Reads several `op://` references with one `op inject`: the template goes on its stdin (argv is only
 * `["inject"]`), the token, if any, only in the environment. `op inject` puts each field's value in place of its
 * `{{ … }}` as stored, adding no newline: what `op read --no-newline` gives.
 */
export async function runOpInject(references: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<InjectOutcome> {
  const template = injectTemplate(references);
  const run = await runProgram(['op', 'inject'], env, timeoutMs, {
    stdin: template.text,
    maxBytes: template.text.length + references.length * MAX_SOURCE_BYTES,
  });
  if (run.kind !== 'ok') return { kind: 'run', run };
  const values = template.split(run.stdout);
  return values ? { kind: 'values', values } : { kind: 'malformed' };
}
