import type { Command } from 'commander';
import { DEFAULT_PROFILE, resolveProfile } from '../config/profile.js';
import type { CliContext } from './context.js';

/** Adds `--profile <name>` to a command that reads or writes the keychain. */
export function withProfileOption(command: Command): Command {
  return command.option(
    '--profile <name>',
    `credential profile (also MCP_KEYPROXY_PROFILE, MCP_CREDENTIAL_PROFILE; default: ${DEFAULT_PROFILE}, the keychain names of before profiles)`,
  );
}

/** The profile of this command (flag, then environment). */
export function commandProfile(ctx: CliContext, flag: string | undefined): string {
  return resolveProfile(flag, ctx.env);
}

/** ` (profile NAME)` for a message, or nothing for the default profile. */
export function inProfile(profile: string): string {
  return profile === DEFAULT_PROFILE ? '' : ` (profile ${profile})`;
}
