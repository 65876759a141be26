import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, expect } from 'vitest';
import { KeyproxyError, type KeyproxyErrorCode } from '../../../src/errors.js';

const created: string[] = [];

afterEach(async () => {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh temporary directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'keyproxy-config-'));
  created.push(dir);
  return dir;
}

/** Writes `content` (JSON-encoded unless a string) to `dir/name`, creating folders; returns the path. */
export async function writeConfig(dir: string, name: string, content: unknown): Promise<string> {
  const file = path.join(dir, name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

/** Runs `fn` and returns the KeyproxyError it throws (or rejects with), checking its code. */
export async function expectKeyproxyError(fn: () => unknown, code: KeyproxyErrorCode): Promise<KeyproxyError> {
  let caught: unknown;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(KeyproxyError);
  expect((caught as KeyproxyError).code).toBe(code);
  return caught as KeyproxyError;
}
