import { KeyproxyError } from '../errors.js';
import { secretsSetCommand } from './hints.js';

/**
 * Longest value (UTF-8 bytes) that fits one environment variable everywhere: Windows allows 32,767 characters per
 * variable, Linux 128 KiB per `NAME=value` string (beyond it spawn fails with E2BIG).
 */
export const MAX_VALUE_BYTES = 32_000;

/** A high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `value` cannot reach a server intact through an environment variable, or undefined when it can. */
export function injectionProblem(value: string): string | undefined {
  // Node's spawn refuses an environment value with a NUL byte (and would echo the value in its error).
  if (value.includes('\u0000')) return 'it contains a NUL byte, which no environment variable can hold';
  // Environment values are passed as UTF-8: a lone surrogate would silently become U+FFFD.
  if (loneSurrogate.test(value)) return 'it is not valid Unicode text (it holds a lone UTF-16 surrogate)';
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_VALUE_BYTES) {
    return `it is ${bytes} bytes long, more than the ${MAX_VALUE_BYTES} bytes an environment variable can hold on every platform`;
  }
  return undefined;
}

/** Throws SECRET_INVALID (exit code 2) when `value` cannot be injected; the message names the secret, never the value. */
export function assertInjectableValue(name: string, value: string): void {
  const problem = injectionProblem(value);
  if (problem) {
    throw new KeyproxyError('SECRET_INVALID', `The value for ${name} cannot be passed to a server: ${problem}. Nothing was stored.`);
  }
}

/** Throws KEYCHAIN_FAILED when a value already in the keychain holds a NUL byte, which no server could be given. */
export function assertStoredValueUsable(server: string, name: string, value: string, profile: string | undefined): void {
  if (value.includes('\u0000')) {
    throw new KeyproxyError(
      'KEYCHAIN_FAILED',
      `The stored value of secret ${name} contains a NUL byte, which cannot be passed to a server. Store it again ` +
        `with \`${secretsSetCommand(server, name, profile)}\`.`,
    );
  }
}
