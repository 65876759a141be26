import { describe, expect, it } from 'vitest';
import { platformConfigDir } from '../../../src/config/paths.js';

describe('platformConfigDir', () => {
  it('uses an absolute XDG_CONFIG_HOME on Linux', () => {
    expect(platformConfigDir('linux', { XDG_CONFIG_HOME: '/xdg' }, '/home/u')).toBe('/xdg/mcp-keyproxy');
  });

  it('falls back to ~/.config on Linux when XDG_CONFIG_HOME is unset or relative', () => {
    expect(platformConfigDir('linux', {}, '/home/u')).toBe('/home/u/.config/mcp-keyproxy');
    expect(platformConfigDir('linux', { XDG_CONFIG_HOME: 'rel/dir' }, '/home/u')).toBe('/home/u/.config/mcp-keyproxy');
  });

  it('uses Application Support on macOS, ignoring XDG', () => {
    expect(platformConfigDir('darwin', { XDG_CONFIG_HOME: '/xdg' }, '/Users/u')).toBe('/Users/u/Library/Application Support/mcp-keyproxy');
  });

  it('uses %APPDATA% on Windows, with backslashes', () => {
    expect(platformConfigDir('win32', { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'C:\\Users\\u')).toBe(
      'C:\\Users\\u\\AppData\\Roaming\\mcp-keyproxy',
    );
    expect(platformConfigDir('win32', {}, 'C:\\Users\\u')).toBe('C:\\Users\\u\\AppData\\Roaming\\mcp-keyproxy');
  });
});
