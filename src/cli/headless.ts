/** True when no UI may ever be shown: `--headless`, `MCP_KEYPROXY_HEADLESS=1` or `MCP_BYPASS_SECRET_USE_CONFIRM=true`. */
export function isHeadless(flag: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  return (
    flag === true ||
    ['1', 'true'].includes(env.MCP_KEYPROXY_HEADLESS?.toLowerCase() ?? '') ||
    env.MCP_BYPASS_SECRET_USE_CONFIRM?.toLowerCase() === 'true'
  );
}
