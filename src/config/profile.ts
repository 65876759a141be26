import { KeyproxyError } from '../errors.js';

/** The profile used when none is named: its keychain names are those of mcp-keyproxy before profiles existed. */
export const DEFAULT_PROFILE = 'default';
/** A profile name: part of the keychain service name (`mcp-keyproxy@<profile>/<server>`). */
export const PROFILE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
/** What a profile name may be, in words. */
export const PROFILE_NAME_RULE = 'use letters, digits, ".", "_" or "-" (at most 32, starting with a letter or digit)';

/**
 * The credential profile of this process: `--profile`, else `MCP_KEYPROXY_PROFILE`, else `MCP_CREDENTIAL_PROFILE`,
 * else `default`. An invalid name is a usage error that says where it came from.
 */
export function resolveProfile(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const [profile, from] =
    flag !== undefined
      ? [flag, '--profile']
      : env.MCP_KEYPROXY_PROFILE
        ? [env.MCP_KEYPROXY_PROFILE, 'MCP_KEYPROXY_PROFILE']
        : env.MCP_CREDENTIAL_PROFILE
          ? [env.MCP_CREDENTIAL_PROFILE, 'MCP_CREDENTIAL_PROFILE']
          : [DEFAULT_PROFILE, ''];
  if (!PROFILE_NAME_PATTERN.test(profile)) {
    throw new KeyproxyError('USAGE', `"${profile}" (from ${from}) is not a valid profile name: ${PROFILE_NAME_RULE}.`);
  }
  return profile;
}

/** ` --profile NAME` for a command line shown to the user, or nothing for the default profile. */
export function profileFlag(profile: string | undefined): string {
  return profile === undefined || profile === DEFAULT_PROFILE ? '' : ` --profile ${profile}`;
}
