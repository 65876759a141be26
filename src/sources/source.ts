import type { SecretSourceConfig } from '../config/schema.js';
import { KeyproxyError } from '../errors.js';

/** Where one secret's value is read, parsed from its `"from"`. */
export type SecretSource =
  | { kind: 'env'; variable: string }
  | { kind: 'file'; path: string }
  | { kind: 'credential'; name: string }
  | { kind: 'command'; argv: [string, ...string[]]; firstLine: boolean }
  | { kind: 'op'; reference: string };

/** The keychain entry (server, secret) that may hold the 1Password service-account token for headless machines. */
export const OP_TOKEN_ENTRY = { server: 'op-service-account', name: 'OP_SERVICE_ACCOUNT_TOKEN' } as const;

/** The kinds of source, as audit events and `secrets list` name them. */
export type SourceKind = SecretSource['kind'];

/** The source a validated `"from"` names. */
export function parseSource(from: SecretSourceConfig): SecretSource {
  if (typeof from !== 'string') {
    const [program, ...args] = from.command;
    if (program === undefined) throw new KeyproxyError('CONFIG_INVALID', '"from": {"command": []} names no program');
    return { kind: 'command', argv: [program, ...args], firstLine: from.first_line };
  }
  if (from.startsWith('op://')) return { kind: 'op', reference: from };
  const colon = from.indexOf(':');
  const kind = from.slice(0, colon);
  const rest = from.slice(colon + 1);
  if (kind === 'env') return { kind: 'env', variable: rest };
  if (kind === 'file') return { kind: 'file', path: rest };
  if (kind === 'credential') return { kind: 'credential', name: rest };
  throw new KeyproxyError('CONFIG_INVALID', `"from" of unknown kind "${kind}"`);
}

/** The source in words for messages and logs (a reference, path or program: never a value). */
export function describeSource(source: SecretSource): string {
  switch (source.kind) {
    case 'env':
      return `env:${source.variable}`;
    case 'file':
      return `file:${source.path}`;
    case 'credential':
      return `credential:${source.name}`;
    case 'command':
      return `command ${JSON.stringify(source.argv)}`;
    case 'op':
      return source.reference;
  }
}

/** The error for a source that gave no value: names the server, the secret, the source and what to do. */
export function sourceError(server: string, secret: string, source: SecretSource, problem: string, cause?: unknown): KeyproxyError {
  return new KeyproxyError(
    'SOURCE_FAILED',
    `Secret ${secret} of server "${server}" comes from ${describeSource(source)}: ${problem}`,
    cause === undefined ? undefined : { cause },
  );
}
