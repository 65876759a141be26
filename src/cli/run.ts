import { Command, Option } from 'commander';
import { collectChannelSchema } from '../config/schema.js';
import { LOG_LEVELS } from '../log/levels.js';
import type { CliContext } from './context.js';
import { withInlineOptions } from './inline-server.js';
import { run, type RunOptions } from './serve-run.js';

const COLLECT_CHANNELS: readonly string[] = collectChannelSchema.options;

/** `mcp-keyproxy run [server]`: the proxy itself. stdout carries only JSON-RPC from here on. */
export function runCommand(ctx: CliContext, setExitCode: (code: number) => void): Command {
  return withInlineOptions(
    new Command('run')
      .description(
        'serve an MCP server over stdio, with its secrets from the keychain (point your MCP client here); with no server name, every enabled server behind one endpoint; with --secret … -- <command> or --url, a server given on the command line',
      )
      .argument('[server]', 'server name from the config (default: every server that is not "enabled": false)'),
  )
    .option('--only <names>', 'with no server name: serve only these servers (comma-separated)')
    .option('-c, --config <file>', 'config file (default: $MCP_KEYPROXY_CONFIG, a trusted ./proxy.config.json, the user config dir)')
    .option('--headless', 'never show any UI; a missing secret is an error (also MCP_KEYPROXY_HEADLESS=1)')
    .addOption(
      new Option(
        '--collect <channel>',
        'where missing keys are typed: the native dialog, a one-time page in your browser, or auto (the dialog when a display is available, else the page); overrides each server\'s "collect"',
      ).choices(COLLECT_CHANNELS),
    )
    .option(
      '--profile <name>',
      'credential profile: its own keychain entries (also MCP_KEYPROXY_PROFILE, MCP_CREDENTIAL_PROFILE; default: default)',
    )
    .addOption(new Option('--log-level <level>', 'stderr log level (also MCP_KEYPROXY_LOG_LEVEL)').choices(LOG_LEVELS))
    .action(async (serverName: string | undefined, command: string[], options: RunOptions) => {
      setExitCode(await run(ctx, serverName, options, command));
    });
}
