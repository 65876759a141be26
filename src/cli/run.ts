import { Command, Option } from 'commander';
import { findServer, loadConfig } from '../config/load.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../log/logger.js';
import { Scrubber } from '../log/scrubber.js';
import { serveServer } from '../proxy/serve.js';
import { packageVersion } from '../version.js';
import type { CliContext } from './context.js';
import { isHeadless } from './headless.js';

interface RunOptions {
  config?: string;
  headless?: boolean;
  logLevel?: LogLevel;
}

/** `mcp-keyproxy run <server>`: the proxy itself. stdout carries only JSON-RPC from here on. */
export function runCommand(ctx: CliContext, setExitCode: (code: number) => void): Command {
  return new Command('run')
    .description('serve an MCP server over stdio, with its secrets from the keychain (point your MCP client here)')
    .argument('<server>', 'server name from the config')
    .option('-c, --config <file>', 'config file (default: $MCP_KEYPROXY_CONFIG, ./proxy.config.json, the user config dir)')
    .option('--headless', 'never show any UI; a missing secret is an error (also MCP_KEYPROXY_HEADLESS=1)')
    .addOption(new Option('--log-level <level>', 'stderr log level (also MCP_KEYPROXY_LOG_LEVEL)').choices(LOG_LEVELS))
    .action(async (serverName: string, options: RunOptions) => {
      setExitCode(await run(ctx, serverName, options));
    });
}

async function run(ctx: CliContext, serverName: string, options: RunOptions): Promise<number> {
  const scrubber = new Scrubber();
  const logger = createLogger({ level: logLevel(options.logLevel, ctx.env), scrubber });
  const config = await loadConfig({ configPath: options.config, env: ctx.env, cwd: ctx.cwd });
  for (const warning of config.warnings) logger.warn(warning);
  const server = findServer(config, serverName);

  const proxy = await serveServer(
    { serverName, server, headless: isHeadless(options.headless, ctx.env), parentEnv: ctx.env, version: packageVersion },
    {
      store: ctx.openStore(),
      logger,
      scrubber,
      dialog: ctx.openDialog(),
      // The SDK is loaded only once the server is spawned: it is the heaviest import of the proxy.
      openFront: async () => {
        const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
        return new StdioServerTransport(ctx.stdin, ctx.stdout);
      },
    },
  );

  // The SDK's stdio server transport does not notice the end of stdin: the client closing it means "stop".
  const stop = (reason: string) => () => {
    logger.info({ reason }, 'stopping');
    void proxy.stop();
  };
  ctx.stdin.once('end', stop('client closed stdin'));
  process.once('SIGTERM', stop('SIGTERM'));
  process.once('SIGINT', stop('SIGINT'));
  return proxy.finished;
}

function logLevel(flag: LogLevel | undefined, env: NodeJS.ProcessEnv): LogLevel {
  const fromEnv = env.MCP_KEYPROXY_LOG_LEVEL?.toLowerCase();
  if (flag) return flag;
  if (fromEnv && (LOG_LEVELS as readonly string[]).includes(fromEnv)) return fromEnv as LogLevel;
  return 'info';
}
