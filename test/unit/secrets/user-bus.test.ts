import { describe, expect, it } from 'vitest';
import { userBusFallback } from '../../../src/secrets/user-bus.js';

describe('userBusFallback', () => {
  const present =
    (...sockets: string[]) =>
    (socket: string) =>
      sockets.includes(socket);

  it('keeps an address the environment names', () => {
    expect(userBusFallback({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/x' }, 1000, present('/run/user/1000/bus'))).toBeUndefined();
  });

  it('finds the systemd user bus in XDG_RUNTIME_DIR, else in /run/user/<uid>', () => {
    expect(userBusFallback({ XDG_RUNTIME_DIR: '/tmp/rt' }, 1000, present('/tmp/rt/bus'))).toBe('unix:path=/tmp/rt/bus');
    expect(userBusFallback({}, 1000, present('/run/user/1000/bus'))).toBe('unix:path=/run/user/1000/bus');
  });

  it('gives nothing when there is no such socket', () => {
    expect(userBusFallback({}, 1000, present())).toBeUndefined();
    expect(userBusFallback({}, undefined, present('/run/user/1000/bus'))).toBeUndefined();
  });
});
