import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The npm package root: the folder holding package.json, schema/ and native-dialog/. Found by walking up to the
 * nearest package.json rather than a fixed `../..`, because the same code runs at three depths: src/ (tests),
 * dist/ (tsc output) and dist/bundle/ (the bundle the CLI loads). No package.json may sit in between.
 */
export const packageRoot: string = findPackageRoot(import.meta.dirname);

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`mcp-keyproxy: no package.json above ${start}`);
  }
}
