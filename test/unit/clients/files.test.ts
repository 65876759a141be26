import { chmod, lstat, mkdtemp, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replaceIfUnchanged, writeBackup } from '../../../src/clients/files.js';

describe('client file writes', () => {
  it('keep the mode, write through a symlink (the link stays a link), and back up beside the target', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyproxy-files-'));
    const target = join(dir, 'real.json');
    const link = join(dir, 'link.json');
    await writeFile(target, '{"a":1}');
    await chmod(target, 0o600);
    await symlink(target, link);
    const backup = await writeBackup(link, '{"a":1}', 0o600, '20260101T000000000Z');
    expect(backup).toBe(`${target}.mcp-keyproxy-20260101T000000000Z.bak`);
    await replaceIfUnchanged(link, '{"a":1}', '{"a":2}');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(target);
    expect(await readFile(target, 'utf8')).toBe('{"a":2}');
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    expect((await stat(backup)).mode & 0o777).toBe(0o600);
  });

  it('refuse to write when the file changed since it was read, and leave it as it is', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyproxy-files-'));
    const file = join(dir, 'c.json');
    await writeFile(file, 'changed by the client');
    await expect(replaceIfUnchanged(file, 'as read', 'ours')).rejects.toThrow(/changed while mcp-keyproxy was working on it/);
    expect(await readFile(file, 'utf8')).toBe('changed by the client');
  });
});
