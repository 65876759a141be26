import { profileFlag } from '../config/profile.js';

/**
 * The command that stores secret `name` of server `server` (`<server>` when the message cannot know which) in the
 * credential `profile` (`run --profile`, `secrets … --profile`; undefined or `default`: no flag).
 */
export function secretsSetCommand(server: string | undefined, name: string, profile: string | undefined): string {
  return `mcp-keyproxy secrets set ${server ?? '<server>'} ${name}${profileFlag(profile)}`;
}
