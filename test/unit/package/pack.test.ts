import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** What `npm pack` would put in the tarball (needs `npm run build` first, as CI runs it). */
function packedFiles(): string[] {
  if (!existsSync(join(root, 'dist/bundle/index.cjs'))) {
    throw new Error('dist/bundle is missing: run `npm run build` first (plain `npm test` does not build; `npm run test:all` does).');
  }
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  const [report] = JSON.parse(out) as Array<{ files: Array<{ path: string }> }>;
  return report!.files.map((file) => file.path);
}

describe('the npm package', () => {
  it('depends at run time only on what the bundle cannot contain: the native keyring', () => {
    expect(Object.keys(pkg.dependencies)).toEqual(['@napi-rs/keyring']);
    // The bundle takes these from devDependencies at build time.
    expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(['@modelcontextprotocol/sdk', 'zod', 'pino', 'execa']));
  });

  it('ships the bundle, the dialog with its source and build script, the schema and a LICENSE; no source maps', () => {
    const files = packedFiles();
    expect(files).toEqual(
      expect.arrayContaining([
        'bin/mcp-keyproxy.js',
        // Makes the bin CommonJS, as the chunks it requires are (scripts/bundle.mjs).
        'bin/package.json',
        'dist/bundle/early.cjs',
        'dist/bundle/index.cjs',
        'LICENSE',
        'schema/proxy.config.schema.json',
        'scripts/build-dialog.sh',
        'native-dialog/linux/keyproxy-dialog.c',
        'proxy.config.example.json',
      ]),
    );
    expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
    expect(files.filter((file) => file.startsWith('src/') || file.startsWith('test/'))).toEqual([]);
    // `npm pack` is a process of its own: seconds on a busy machine.
  }, 60_000);

  it('runs an example server by its scoped npm name, not an unscoped one anybody could publish', () => {
    const example = readFileSync(join(root, 'proxy.config.example.json'), 'utf8');
    expect(example).toContain('"@modelcontextprotocol/server-everything"');
    expect(example).not.toMatch(/"mcp-server-everything"/);
  });
});
