import type { CollectChannel, ServerConfig } from '../../config/schema.js';

/** What serving the aggregate needs to know. */
export interface AggregateOptions {
  /** The servers to serve, in config order (the first of two listing the same resource URI wins). */
  servers: ReadonlyArray<[string, ServerConfig]>;
  /** Between server and tool name. */
  separator: string;
  headless: boolean;
  parentEnv: NodeJS.ProcessEnv;
  version: string;
  /** The credential profile, shown by the status tool when not the default. */
  profile?: string;
  /** Shown by the status tool: e.g. a project file left unused because the user has not trusted it. */
  notices?: readonly string[];
  /** `run --collect`, for every server. */
  collect?: CollectChannel;
}
