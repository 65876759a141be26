import { isSecretName, isServerName, SECRET_NAME_RULE, SERVER_NAME_RULE } from '../config/names.js';
import { KeyproxyError } from '../errors.js';

/** Validates server and secret names as the config does, so a typo cannot create an unreachable item. */
export function checkName(server: string, name?: string): void {
  if (!isServerName(server)) {
    throw new KeyproxyError('USAGE', `"${server}" is not a valid server name: ${SERVER_NAME_RULE}.`);
  }
  if (name !== undefined && !isSecretName(name)) {
    throw new KeyproxyError('USAGE', `"${name}" is not a valid secret name: ${SECRET_NAME_RULE}.`);
  }
}
