import { profileFlag } from '../config/profile.js';

/** The credential profile of this process (one process serves one), named in the commands the hints show. */
let hintProfile: string | undefined;

/** Sets the profile the hints name (`run --profile`, `secrets … --profile`). */
export function setHintProfile(profile: string | undefined): void {
  hintProfile = profile;
}

/** The command that stores secret `name` of server `server` (`<server>` when the message cannot know which). */
export function secretsSetCommand(server: string | undefined, name: string): string {
  return `mcp-keyproxy secrets set ${server ?? '<server>'} ${name}${profileFlag(hintProfile)}`;
}
