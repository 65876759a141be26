import { AuditLog, type AuditLogOptions } from './audit-log.js';
import { FileAuditSink, type FileAuditSinkOptions } from './file-sink.js';
import { defaultAuditPath } from './paths.js';

/** Options of `openAuditLog`. */
export interface OpenAuditLogOptions extends AuditLogOptions, FileAuditSinkOptions {
  /** Source of `MCP_KEYPROXY_STATE_DIR` and `XDG_STATE_HOME`; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Overrides the platform path entirely. */
  file?: string;
}

/** The audit log at its default place (the platform state dir, or `MCP_KEYPROXY_STATE_DIR`). Opens nothing yet. */
export function openAuditLog(options: OpenAuditLogOptions = {}): AuditLog {
  const file = options.file ?? defaultAuditPath(options.env ?? process.env);
  return new AuditLog(new FileAuditSink(file, options), options);
}
