/** Exit codes of the `mcp-keyproxy` command: the one table, documented in README.md ("Commands and exit codes"). */
export const ExitCode = {
  ok: 0,
  /** The command ran and failed (a doctor check, a server that ended on its own), or an unexpected error. */
  failure: 1,
  /** Bad input: an unknown option, a bad name or value, a name that matches nothing (a typo). */
  usage: 2,
  /** EX_UNAVAILABLE: the keychain cannot be reached or is locked. */
  unavailable: 69,
  /** EX_CONFIG: the config is invalid or a required secret is missing. */
  config: 78,
  /** 128 + SIGINT: Ctrl-C, at a prompt or while running. */
  interrupted: 130,
} as const;

/** Stable machine-readable error codes. */
export type KeyproxyErrorCode =
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_INVALID'
  | 'SERVER_UNKNOWN'
  | 'SECRET_MISSING'
  /** A remote server needs an OAuth login (`mcp-keyproxy auth login <server>`) and none may be started here. */
  | 'LOGIN_REQUIRED'
  /** A name given on the command line matches nothing: a secret not stored, a server the config does not have. */
  | 'NOT_FOUND'
  | 'SECRET_INVALID'
  /** A secret's `from` source (env, file, credential, command, op://) gave no value. */
  | 'SOURCE_FAILED'
  | 'KEYCHAIN_UNAVAILABLE'
  | 'KEYCHAIN_LOCKED'
  | 'KEYCHAIN_FAILED'
  | 'DOWNSTREAM_FAILED'
  | 'DIALOG_UNAVAILABLE'
  | 'STATE_WRITE_FAILED'
  | 'USAGE'
  | 'INTERRUPTED';

const exitCodeByErrorCode: Record<KeyproxyErrorCode, number> = {
  CONFIG_NOT_FOUND: ExitCode.config,
  CONFIG_INVALID: ExitCode.config,
  SERVER_UNKNOWN: ExitCode.config,
  SECRET_MISSING: ExitCode.config,
  LOGIN_REQUIRED: ExitCode.config,
  NOT_FOUND: ExitCode.usage,
  SECRET_INVALID: ExitCode.usage,
  SOURCE_FAILED: ExitCode.config,
  KEYCHAIN_UNAVAILABLE: ExitCode.unavailable,
  KEYCHAIN_LOCKED: ExitCode.unavailable,
  KEYCHAIN_FAILED: ExitCode.unavailable,
  DOWNSTREAM_FAILED: ExitCode.failure,
  DIALOG_UNAVAILABLE: ExitCode.unavailable,
  STATE_WRITE_FAILED: ExitCode.failure,
  USAGE: ExitCode.usage,
  INTERRUPTED: ExitCode.interrupted,
};

/**
 * The one error class of mcp-keyproxy: a stable `code`, a message that says what happened and what to do next,
 * and the underlying `cause`. Messages never contain secret values.
 */
export class KeyproxyError extends Error {
  readonly code: KeyproxyErrorCode;

  constructor(code: KeyproxyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyproxyError';
    this.code = code;
  }

  /** The process exit code this error maps to. */
  get exitCode(): number {
    return exitCodeByErrorCode[this.code];
  }
}
