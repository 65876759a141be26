import { describe, expect, it } from 'vitest';
import { KeyproxyError } from '../../../src/errors.js';
import { mapKeyringError } from '../../../src/secrets/keyring-errors.js';

/** What @napi-rs/keyring rejects with: a plain Error with code GenericFailure. */
function napiError(message: string): Error {
  return Object.assign(new Error(message), { code: 'GenericFailure' });
}

describe('mapKeyringError', () => {
  const cases: Array<[string, string, string]> = [
    [
      'Platform failure: DBus error: The name org.freedesktop.secrets was not provided by any .service files',
      'KEYCHAIN_UNAVAILABLE',
      'dbus-run-session',
    ],
    [
      'zbus error: org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided by any .service files',
      'KEYCHAIN_UNAVAILABLE',
      'gnome-keyring',
    ],
    ["Couldn't access platform storage: Secret Service: unlock prompt was dismissed", 'KEYCHAIN_LOCKED', 'Unlock it'],
    ['zbus error: org.freedesktop.Secret.Error.IsLocked: Cannot get secret of a locked object', 'KEYCHAIN_LOCKED', 'Unlock it'],
    ["Couldn't access platform storage: Secret Service: no result found", 'KEYCHAIN_UNAVAILABLE', 'default keyring'],
    [
      'Platform failure: DBus error: Using X11 for dbus-daemon autolaunch was disabled at compile time, set your DBUS_SESSION_BUS_ADDRESS instead',
      'KEYCHAIN_UNAVAILABLE',
      'No D-Bus session bus',
    ],
    [
      'Platform failure: DBus error: Failed to connect to socket /nonexistent: No such file or directory',
      'KEYCHAIN_UNAVAILABLE',
      'No D-Bus session bus',
    ],
    [
      'zbus error: Failed to connect to address `unix:path=/run/user/0/bus`: No such file or directory (os error 2)',
      'KEYCHAIN_UNAVAILABLE',
      'No D-Bus session bus',
    ],
    ['Something nobody expected', 'KEYCHAIN_FAILED', 'Something nobody expected'],
  ];

  for (const [message, code, hint] of cases) {
    it(`${code}: ${message.slice(0, 60)}`, () => {
      const original = napiError(message);
      const mapped = mapKeyringError(original);
      expect(mapped).toBeInstanceOf(KeyproxyError);
      expect(mapped.code).toBe(code);
      expect(mapped.message).toContain(hint);
      expect(mapped.message).toContain('mcp-keyproxy doctor');
      expect(mapped.cause).toBe(original);
    });
  }

  it('passes a KeyproxyError through unchanged', () => {
    const error = new KeyproxyError('KEYCHAIN_LOCKED', 'x');
    expect(mapKeyringError(error)).toBe(error);
  });

  it('maps non-Error values', () => {
    expect(mapKeyringError('weird').code).toBe('KEYCHAIN_FAILED');
  });

  it('never repeats a value it was told to redact', () => {
    const secret = 'sk-"very"-secret';
    const mapped = mapKeyringError(napiError(`odd failure near ${secret} and "sk-\\"very\\"-secret"`), [secret]);
    expect(mapped.message).not.toContain('very');
    expect(mapped.message).toContain('[redacted]');
  });
});
