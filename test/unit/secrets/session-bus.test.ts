import { describe, expect, it } from 'vitest';
import { sessionBusFallback } from '../../../src/secrets/session-bus.js';

describe('sessionBusFallback', () => {
  const present =
    (...sockets: string[]) =>
    (socket: string) =>
      sockets.includes(socket);

  it('keeps an address the environment names', () => {
    expect(sessionBusFallback({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/x' }, 1000, present('/run/user/1000/bus'))).toBeUndefined();
  });

  it('finds the systemd user bus in XDG_RUNTIME_DIR, else in /run/user/<uid>', () => {
    expect(sessionBusFallback({ XDG_RUNTIME_DIR: '/tmp/rt' }, 1000, present('/tmp/rt/bus'))).toBe('unix:path=/tmp/rt/bus');
    expect(sessionBusFallback({}, 1000, present('/run/user/1000/bus'))).toBe('unix:path=/run/user/1000/bus');
  });

  it('gives nothing when there is no such socket', () => {
    expect(sessionBusFallback({}, 1000, present())).toBeUndefined();
    expect(sessionBusFallback({}, undefined, present('/run/user/1000/bus'))).toBeUndefined();
  });
});
