// Architecture rules, checked by `npm run lint`: no import cycles, and no import that runs back up a layer.
// src/proxy/ is built bottom-up: wire → core → era → downstream → local | remote | setup → aggregate | single → the
// entries (serve.ts, launch.ts). Outside it, files/, config/, consent/, secrets/, sources/, dialog/, browser/, oauth/, page/, log/, audit/, timing/ and hardening/ know nothing of the
// proxy or the CLI.
const room = (name) => `^src/proxy/${name}/`;
const rooms = ['wire', 'core', 'era', 'downstream', 'local', 'remote', 'setup', 'aggregate', 'single'];
/** The rooms a room may not import: every room above it, and its siblings on the same floor. */
const above = {
  wire: ['core', 'era', 'downstream', 'local', 'remote', 'setup', 'aggregate', 'single'],
  core: ['era', 'downstream', 'local', 'remote', 'setup', 'aggregate', 'single'],
  era: ['downstream', 'local', 'remote', 'setup', 'aggregate', 'single'],
  downstream: ['local', 'remote', 'setup', 'aggregate', 'single'],
  local: ['remote', 'setup', 'aggregate', 'single'],
  remote: ['local', 'setup', 'aggregate', 'single'],
  setup: ['local', 'remote', 'aggregate', 'single'],
  aggregate: ['local', 'remote', 'single'],
  single: ['local', 'remote', 'setup', 'aggregate'],
};

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: break it by moving the shared part down a layer.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...rooms.map((name) => ({
      name: `proxy-${name}-layer`,
      severity: 'error',
      comment: `src/proxy/${name}/ may not import a room above it or beside it (${above[name].join(', ')}).`,
      from: { path: room(name) },
      to: { path: `^src/proxy/(${above[name].join('|')})/` },
    })),
    {
      name: 'proxy-rooms-not-entries',
      severity: 'error',
      comment: 'The entries at the top of src/proxy/ (serve.ts, launch.ts) are imported only from outside the proxy.',
      from: { path: '^src/proxy/[^/]+/' },
      to: { path: '^src/proxy/[^/]+\\.ts$' },
    },
    {
      name: 'foundations-not-proxy-or-cli',
      severity: 'error',
      comment:
        'clients/, files/, config/, consent/, secrets/, sources/, dialog/, browser/, oauth/, page/, log/, audit/, timing/ and hardening/ are used by the proxy and the CLI, never the other way round.',
      from: { path: '^src/(files|config|consent|secrets|sources|dialog|browser|oauth|page|log|audit|timing|hardening|clients)/' },
      to: { path: '^src/(proxy|cli)/' },
    },
    {
      name: 'proxy-not-cli',
      severity: 'error',
      comment: 'The proxy knows nothing of commander: the CLI hands it its dependencies.',
      from: { path: '^src/proxy/' },
      to: { path: '^src/cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
