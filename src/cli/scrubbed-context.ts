import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { ExitCode, KeyproxyError } from '../errors.js';
import { logsWritten } from '../log/logger.js';
import type { Scrubber } from '../log/scrubber.js';
import { ReportingStore } from '../secrets/reporting-store.js';
import { cachedValues } from '../sources/cache-format.js';
import type { SecretStore } from '../secrets/store.js';
import { writeLine, type CliContext } from './context.js';

/**
 * What every command runs in, with or without commander (`runCli`, and the bin's fast path for `run <server>`):
 * a context that scrubs, and one way of turning an error into a message and an exit code.
 */

/** `ctx` with a store that registers every value it handles with `scrubber`, and a stderr that it scrubs. */
export function scrubbedContext(ctx: CliContext, scrubber: Scrubber): CliContext {
  const known = new Set<string>();
  const register = (server: string, name: string, value: string): void => {
    const key = `${server}/${name}\u0000${value}`;
    if (known.has(key)) return;
    known.add(key);
    // Node's own errors quote a value as inspect() does (escaping control characters): scrub that spelling too.
    const quoted = inspect(value).slice(1, -1);
    try {
      scrubber.add(`${server}/${name}`, value);
      if (quoted !== value) scrubber.add(`${server}/${name}`, quoted);
    } catch (error) {
      // Too short to scrub: the proxy refuses to inject such a value, and a read or write must not fail here.
      if (!(error instanceof KeyproxyError)) throw error;
    }
  };
  const stores = new Map<string | undefined, SecretStore>();
  const cacheStores = new Map<string | undefined, SecretStore>();
  const openCacheStore = ctx.openCacheStore?.bind(ctx);
  return {
    ...ctx,
    stderr: scrubbingStream(ctx.stderr, scrubber),
    openStore: (profile) => {
      let store = stores.get(profile);
      if (!store) stores.set(profile, (store = new ReportingStore(ctx.openStore(profile), register)));
      return store;
    },
    // The cache item is JSON around the values: the values are what must be scrubbed.
    ...(openCacheStore && {
      openCacheStore: (profile?: string) => {
        let store = cacheStores.get(profile);
        if (!store) {
          store = new ReportingStore(openCacheStore(profile), (server, account, text) => {
            for (const [name, value] of cachedValues(account, text)) register(server, name, value);
          });
          cacheStores.set(profile, store);
        }
        return store;
      },
    }),
    registerSecret: (label, value) => {
      const slash = label.indexOf('/');
      register(label.slice(0, slash), label.slice(slash + 1), value);
    },
  };
}

/**
 * Says on `stderr` why a command failed, after the lines logged before it, and resolves with its exit code: a
 * KeyproxyError's own, else a general failure.
 */
export async function reportFailure(stderr: Writable, error: unknown): Promise<number> {
  await logsWritten();
  if (error instanceof KeyproxyError) {
    writeLine(stderr, `mcp-keyproxy: ${error.message}`);
    return error.exitCode;
  }
  writeLine(stderr, `mcp-keyproxy: unexpected error: ${error instanceof Error ? error.message : String(error)}`);
  return ExitCode.failure;
}

/**
 * A stream that writes each chunk, scrubbed, to `stream` at once (callers write whole lines). It completes every
 * write synchronously, so nothing waits in it when the process exits. stdout is not wrapped: for `run` it is the
 * JSON-RPC channel, which the proxy scrubs itself and whose backpressure must reach the proxy.
 */
function scrubbingStream(stream: Writable, scrubber: Scrubber): Writable {
  const scrubbed = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, callback) {
      stream.write(scrubber.scrub(typeof chunk === 'string' ? chunk : chunk.toString('utf8'), 'stderr'));
      callback();
    },
  });
  // readline (the confirmation of `secrets clear`) asks its output whether it is a terminal.
  Object.defineProperty(scrubbed, 'isTTY', { get: () => (stream as { isTTY?: boolean }).isTTY });
  return scrubbed;
}
