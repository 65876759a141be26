/** The command that stores secret `name` of server `server` (`<server>` when the message cannot know which). */
export function secretsSetCommand(server: string | undefined, name: string): string {
  return `mcp-keyproxy secrets set ${server ?? '<server>'} ${name}`;
}
