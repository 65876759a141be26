/** A server name: part of the keychain service name and of tool prefixes. */
export const SERVER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** What a server name may be, in words. */
export const SERVER_NAME_RULE = 'use letters, digits, ".", "_" or "-" (at most 64, starting with a letter or digit)';

/** A secret name as used in `${secret:NAME}` (a keychain account). */
export const SECRET_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
/** What a secret name may be, in words. */
export const SECRET_NAME_RULE = 'use letters, digits, "_", "." or "-", starting with a letter or "_"';

/** True for a valid server name. */
export function isServerName(name: string): boolean {
  return SERVER_NAME_PATTERN.test(name);
}

/** True for a valid secret name. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME_PATTERN.test(name);
}
