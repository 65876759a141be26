import { Command } from 'commander';
import { authLoginCommand } from './auth-login.js';
import { authLogoutCommand } from './auth-logout.js';
import { authStatusCommand } from './auth-status.js';
import type { CliContext } from './context.js';

/** `mcp-keyproxy auth login|logout|status`: OAuth logins of remote servers, kept in the OS keychain. */
export function authCommand(ctx: CliContext): Command {
  return new Command('auth')
    .description('OAuth logins of remote servers (tokens in the OS keychain, never in a file)')
    .addCommand(authLoginCommand(ctx))
    .addCommand(authLogoutCommand(ctx))
    .addCommand(authStatusCommand(ctx));
}
