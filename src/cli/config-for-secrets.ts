import { loadConfig } from '../config/load.js';
import type { LoadedConfig } from '../config/types.js';
import { KeyproxyError } from '../errors.js';
import type { CliContext } from './context.js';

/**
 * The config, when one can be found. The secrets commands work without one (secrets can be stored before the
 * config is written); an invalid config is still an error.
 */
export async function loadConfigIfPresent(ctx: CliContext, configPath: string | undefined): Promise<LoadedConfig | undefined> {
  try {
    return await loadConfig({ configPath, env: ctx.env, cwd: ctx.cwd });
  } catch (error) {
    if (error instanceof KeyproxyError && error.code === 'CONFIG_NOT_FOUND' && configPath === undefined) return undefined;
    throw error;
  }
}
