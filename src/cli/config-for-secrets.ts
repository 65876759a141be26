import { loadConfig } from '../config/load.js';
import type { LoadedConfig } from '../config/types.js';
import { KeyproxyError } from '../errors.js';
import { writeLine, type CliContext } from './context.js';

/**
 * The config, when one can be found. The secrets commands work without one (secrets can be stored before the
 * config is written); an invalid config is still an error.
 */
export async function loadConfigIfPresent(ctx: CliContext, configPath: string | undefined): Promise<LoadedConfig | undefined> {
  try {
    const config = await loadConfig({ configPath, env: ctx.env, cwd: ctx.cwd });
    reportUntrusted(ctx, config);
    return config;
  } catch (error) {
    if (error instanceof KeyproxyError && error.code === 'CONFIG_NOT_FOUND' && configPath === undefined) return undefined;
    throw error;
  }
}

/** Says on stderr which files found in the working directory were left unused because they are not trusted. */
export function reportUntrusted(ctx: CliContext, config: LoadedConfig): void {
  for (const file of config.untrusted ?? []) writeLine(ctx.stderr, `mcp-keyproxy: ${file.message}`);
}
