/** A hash of the code that was bundled, set by scripts/bundle.mjs (`define`). */
declare const __MCP_KEYPROXY_BUILD__: string | undefined;

/** The bundle's build hash; undefined when src/ or dist/ runs unbundled (tests), where nothing defines it. */
export const bundleBuild: string | undefined = typeof __MCP_KEYPROXY_BUILD__ === 'string' ? __MCP_KEYPROXY_BUILD__ : undefined;
