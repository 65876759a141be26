import * as path from 'node:path';
import type { Logger } from '../log/logger.js';
import { KeyproxyError } from '../errors.js';
import { characterLength, MIN_SCRUB_LENGTH } from '../log/scrubber.js';
import { readSecretFile, SecretFileError } from './file-source.js';
import { injectable, opOutcome, runOpInject, runOpRead } from './op-source.js';
import { runProgram, SOURCE_TIMEOUT_MS, type ProgramRun } from './run-program.js';
import { describeSource, sourceError, type SecretSource } from './source.js';
import { secretText, tail } from './text.js';

/** One secret to read and where from. */
export interface SourceRequest {
  secret: string;
  source: SecretSource;
}

/** What reading sources needs, handed in so tests can give their own environment. */
export interface SourceDeps {
  /** The proxy's own environment: `env:` variables, `$CREDENTIALS_DIRECTORY`, and the environment of programs. */
  env: NodeJS.ProcessEnv;
  logger?: Pick<Logger, 'debug'>;
  /** Removes known secret values from a program's stderr before it is logged or quoted in an error. */
  scrub?: (text: string) => string;
  /** The 1Password service-account token kept in the keychain; asked only when an op:// reference is read and the environment has none. */
  opToken?: () => Promise<string | null>;
  timeoutMs?: number;
  /** How many sources are read at once (default 8), beside the one `op inject` of all op:// references. */
  concurrency?: number;
}

/** Reads how many sources at once by default. */
export const SOURCE_CONCURRENCY = 8;

/** Runs `work` over `items` with at most `limit` at once; settles like Promise.allSettled, in order. */
async function settleBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await work(items[index] as T) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/**
 * Reads every source of one server's start at once (bounded), and returns the values by secret name. Any failure
 * is one `SOURCE_FAILED` error naming each failed secret, its source and the fix; no value is ever in it.
 */
export async function readSources(server: string, requests: readonly SourceRequest[], deps: SourceDeps): Promise<Map<string, string>> {
  const settled = await readSourcesSettled(server, requests, deps);
  throwFailures(settled.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : [])));
  return new Map(requests.map((request, index) => [request.secret, (settled[index] as PromiseFulfilledResult<string>).value]));
}

/** Throws nothing for no failures, the one failure as it is, or several as one `SOURCE_FAILED` error listing each. */
export function throwFailures(failures: readonly unknown[]): void {
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) {
    const messages = failures.map((failure) => (failure instanceof Error ? failure.message : String(failure)));
    throw new KeyproxyError('SOURCE_FAILED', messages.join('\n'), { cause: failures[0] });
  }
}

/**
 * Reads every source at once (bounded); each request's value or its `SOURCE_FAILED` error, in order. The op://
 * references (two or more) are read together by one `op inject`, started first; when it fails (op's error, a
 * timeout, output that is not the template filled in), each is read again alone with `op read`, so that each
 * failing reference gets its own error and the others their values.
 */
export async function readSourcesSettled(
  server: string,
  requests: readonly SourceRequest[],
  deps: SourceDeps,
): Promise<PromiseSettledResult<string>[]> {
  const timeoutMs = deps.timeoutMs ?? SOURCE_TIMEOUT_MS;
  const scrub = deps.scrub ?? ((text: string) => text);
  let opEnv: Promise<NodeJS.ProcessEnv> | undefined;
  const envForOp = (): Promise<NodeJS.ProcessEnv> =>
    (opEnv ??= (async () => {
      if (deps.env.OP_SERVICE_ACCOUNT_TOKEN || !deps.opToken) return deps.env;
      // No keychain (a container) is no reason to fail: op may be signed in another way.
      const token = await deps.opToken().catch((error: unknown) => {
        deps.logger?.debug(
          { server, reason: error instanceof Error ? error.message : String(error) },
          'no 1Password token from the keychain',
        );
        return null;
      });
      return token ? { ...deps.env, OP_SERVICE_ACCOUNT_TOKEN: token } : deps.env;
    })());

  // Every op:// reference of this read, each once, in one `op inject`; a lane that reaches one waits for it.
  const batched = [
    ...new Set(requests.flatMap(({ source }) => (source.kind === 'op' && injectable(source.reference) ? [source.reference] : []))),
  ];
  const injected = batched.length >= 2 ? injectAll(batched).catch(() => undefined) : undefined;
  /**
   * The values of one `op inject`; or, when op did not answer in time or is missing, that run (an `op read` of
   * each would only wait as long again, or fail the same way); undefined when each is to be read alone (op's own
   * error: each read then gets its own message).
   */
  async function injectAll(references: string[]): Promise<Map<string, string> | { final: ProgramRun } | undefined> {
    const outcome = await runOpInject(references, await envForOp(), timeoutMs);
    if (outcome.kind === 'values') return new Map(references.map((reference, index) => [reference, outcome.values[index]!]));
    const { run } = outcome.kind === 'run' ? outcome : { run: undefined };
    if (run?.kind === 'timeout' || run?.kind === 'missing') return { final: run };
    const stderr = run?.kind === 'failed' ? tail(scrub(run.stderr), 2000) : '';
    const said = run && opOutcome(run, timeoutMs);
    deps.logger?.debug(
      {
        server,
        references: references.length,
        reason: said === undefined || !('problem' in said) ? 'its output was not the template filled in' : scrub(said.problem),
        ...(stderr === '' ? {} : { stderr }),
      },
      'op inject failed; reading each reference with op read',
    );
    return undefined;
  }

  const readOne = async ({ secret, source }: SourceRequest): Promise<string> => {
    const fail = (problem: string, cause?: unknown) => sourceError(server, secret, source, problem, cause);
    const fromProgramStderr = (stderr: string, value?: string): string => {
      let text = scrub(stderr);
      if (value && value.length >= 4) text = text.split(value).join('[REDACTED]');
      if (text.trim() !== '')
        deps.logger?.debug({ server, secret, source: describeSource(source), stderr: tail(text, 2000) }, 'secret source stderr');
      return text;
    };
    let value: string;
    switch (source.kind) {
      case 'env': {
        const found = deps.env[source.variable];
        if (found === undefined)
          throw fail(`the variable ${source.variable} is not set in the proxy's environment; set it where mcp-keyproxy is started`);
        value = found;
        break;
      }
      case 'file':
      case 'credential': {
        let file = source.kind === 'file' ? source.path : '';
        if (source.kind === 'credential') {
          const dir = deps.env.CREDENTIALS_DIRECTORY;
          if (!dir) throw fail('$CREDENTIALS_DIRECTORY is not set; systemd sets it for a service with LoadCredential= or SetCredential=');
          file = path.join(dir, source.name);
        }
        try {
          value = await readSecretFile(file);
        } catch (error) {
          if (error instanceof SecretFileError) throw fail(error.problem);
          throw error;
        }
        break;
      }
      case 'command': {
        const run = await runProgram(source.argv, deps.env, timeoutMs);
        if (run.kind === 'missing') throw fail(`the program "${source.argv[0]}" was not found; install it or give its full path`);
        if (run.kind === 'timeout') throw fail(`it did not finish within ${timeoutMs / 1000} s${tailOf(fromProgramStderr(run.stderr))}`);
        if (run.kind === 'too-large') throw fail(`it printed more than a secret should hold`);
        if (run.kind === 'failed') {
          const how = run.exitCode !== undefined ? `exited with code ${run.exitCode}` : `was ended by ${run.signal ?? 'a signal'}`;
          throw fail(`it ${how}${tailOf(fromProgramStderr(run.stderr))}`);
        }
        value = secretText(run.stdout, source.firstLine);
        fromProgramStderr(run.stderr, value);
        break;
      }
      case 'op': {
        const batch = await injected;
        const found = batch instanceof Map ? batch.get(source.reference) : undefined;
        if (found !== undefined) {
          value = found;
          break;
        }
        const run =
          batch !== undefined && !(batch instanceof Map) && batched.includes(source.reference)
            ? batch.final
            : await runOpRead(source.reference, await envForOp(), timeoutMs);
        const outcome = opOutcome(run, timeoutMs);
        if ('problem' in outcome) {
          if (run.kind === 'failed' || run.kind === 'timeout') fromProgramStderr(run.stderr);
          throw fail(scrub(outcome.problem));
        }
        value = outcome.value;
        break;
      }
    }
    if (value === '') throw fail('it gave an empty value');
    if (characterLength(value) < MIN_SCRUB_LENGTH) {
      throw fail(
        `it gave a value shorter than ${MIN_SCRUB_LENGTH} characters, too short to scrub from what the server sends back, so it is not injected`,
      );
    }
    return value;
  };

  // The others first: a lane waiting for the inject holds no program, and none of them waits behind it.
  const inBatch = (request: SourceRequest): boolean =>
    injected !== undefined && request.source.kind === 'op' && batched.includes(request.source.reference);
  const order = [...requests.keys()].sort((a, b) => Number(inBatch(requests[a]!)) - Number(inBatch(requests[b]!)));
  const settled = await settleBounded(order, deps.concurrency ?? SOURCE_CONCURRENCY, (index) => readOne(requests[index]!));
  const results: PromiseSettledResult<string>[] = new Array(requests.length);
  order.forEach((index, at) => (results[index] = settled[at]!));
  return results;
}

function tailOf(stderr: string): string {
  const text = tail(stderr);
  return text === '' ? '' : `; its stderr ends: ${text}`;
}
