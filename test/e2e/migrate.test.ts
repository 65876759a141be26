import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { parse as parseJsonc } from 'jsonc-parser';
import { parse as parseToml } from 'smol-toml';
import { beforeAll, describe, expect, it } from 'vitest';
import { CODEX_BASE_ENV, SDK_BASE_ENV } from '../../src/clients/catalog.js';
import {
  cli,
  expectParseable,
  keychainHolds,
  machine,
  proxyConfigPath,
  read,
  useRemoteFixture,
  type Machine,
} from '../helpers/migrate-machine.js';
import { binPath, descendantsOf, everythingEntry, procText } from '../helpers/proxy.js';

const linear = useRemoteFixture();

/** Launches an entry as its client would: its command, args and environment rules; returns the child's env and what the client saw. */
async function launchAsClient(
  m: Machine,
  entry: { command: string; args: string[]; env?: Record<string, string>; env_vars?: string[] },
  rule: 'full' | 'sdk' | 'codex',
) {
  const parent = m.env as Record<string, string>;
  const pick = (names: readonly string[]) =>
    Object.fromEntries(names.filter((n) => parent[n] !== undefined).map((n) => [n, parent[n] as string]));
  // Claude Desktop passes only the SDK's variables; a desktop session's bus is at /run/user/<uid>/bus, which this
  // private keyring session does not have, so its address is handed in as the session would provide it.
  const env =
    rule === 'full'
      ? parent
      : rule === 'codex'
        ? { ...pick(CODEX_BASE_ENV), ...pick(entry.env_vars ?? []), ...entry.env }
        : { ...pick(SDK_BASE_ENV), DBUS_SESSION_BUS_ADDRESS: parent.DBUS_SESSION_BUS_ADDRESS as string, ...entry.env };
  const transport = new StdioClientTransport({ command: entry.command, args: entry.args, env, cwd: m.project, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'as-client', version: '1' });
  try {
    await client.connect(transport);
  } catch (error) {
    throw new Error(`launch failed: ${String(error)}\n${stderr}`);
  }
  return { client, pid: transport.pid ?? -1, stderr: () => stderr };
}

describe('migrate, dry run', () => {
  it('changes no byte and prints no key', async () => {
    const m = await machine();
    const result = await cli(m, ['migrate', '--dry-run']);
    expect(result.code).toBe(0);
    for (const [file, text] of Object.entries(m.files)) expect(await read(m, file)).toBe(text);
    for (const key of Object.values(m.keys)) expect(result.stdout + result.stderr).not.toContain(key);
    expect(result.stdout).toContain('Dry run: 7 key(s) would move');
    expect(result.stdout).toMatch(/argkey: left as it is[\s\S]*args\[3\] looks like a GitHub token: not moved/);
  });
});

describe('migrate, then launch each entry as its client does, then undo', () => {
  let m: Machine;
  let migrated: Record<string, string>;

  beforeAll(async () => {
    m = await machine();
    const result = await cli(m, ['migrate', '--yes']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    for (const key of Object.values(m.keys)) expect(result.stdout).not.toContain(key);
    migrated = Object.fromEntries(await Promise.all(Object.keys(m.files).map(async (file) => [file, await read(m, file)])));
  });

  it('leaves no key in any client file or the proxy config, and puts every key in the keychain', async () => {
    const everything = [...Object.values(migrated), await readFile(proxyConfigPath(m), 'utf8')].join('\n');
    for (const [name, key] of Object.entries(m.keys)) {
      expect(everything, name).not.toContain(key);
    }
    const tag = /github-([0-9a-f]{8})/.exec(migrated['.config/Claude/claude_desktop_config.json'] ?? '')?.[1];
    for (const name of ['github', 'openai', 'search', 'slack', 'stripe', 'linear', 'notion'] as const) {
      expect(await keychainHolds(m.keys[name] ?? '-', `${name}-${tag}`), name).toBe(true);
    }
    await expectParseable(m);
  });

  it('keeps comments, other settings, and the entries it does not move', async () => {
    const vscode = migrated['.config/Code/User/mcp.json'] ?? '';
    expect(vscode).toContain('// My MCP servers (VS Code keeps this comment)');
    expect(vscode).toContain('"type": "stdio", // local server');
    expect(vscode).toContain('"inputs": [{ "type": "promptString", "id": "pat", "description": "PAT", "password": true }]');
    expect(vscode).toContain('"withinput": { "type": "stdio", "command": "node", "env": { "TOKEN": "${input:pat}" } }');
    const codex = migrated['.codex/config.toml'] ?? '';
    for (const kept of [
      '# Codex settings, kept by migrate',
      'model = "gpt-5"',
      '# the search server',
      '# profiles below',
      '[profiles.fast]',
      'startup_timeout_sec = 20',
    ]) {
      expect(codex).toContain(kept);
    }
    const desktop = JSON.parse(migrated['.config/Claude/claude_desktop_config.json'] ?? '') as Record<string, unknown>;
    expect(desktop.globalShortcut).toBe('Ctrl+Space');
    expect(JSON.stringify(desktop)).toContain('"plain":{"command":"npx","args":["-y","some-server"]}');
    expect(JSON.stringify(desktop)).toContain('"argkey"');
    const claude = JSON.parse(migrated['.claude.json'] ?? '') as Record<string, unknown>;
    expect(claude.numStartups).toBe(12);
    expect(Object.keys(claude.projects as object)).toEqual([m.project]);
    expect((claude.projects as Record<string, { allowedTools: unknown }>)[m.project]?.allowedTools).toEqual([]);
  });

  it('each migrated entry, launched as its client launches it, reaches its server with the key', async () => {
    // Consent is another feature's business: allow these servers without asking, in the proxy config only.
    const proxyText = await readFile(proxyConfigPath(m), 'utf8');
    const config = JSON.parse(proxyText) as { servers: Record<string, Record<string, unknown>> };
    for (const server of Object.values(config.servers)) server.confirm = false;
    await writeFile(proxyConfigPath(m), JSON.stringify(config));
    try {
      const desktop = JSON.parse(migrated['.config/Claude/claude_desktop_config.json'] ?? '') as {
        mcpServers: Record<string, { command: string; args: string[] }>;
      };
      const vscode = parseJsonc(migrated['.config/Code/User/mcp.json'] ?? '') as {
        servers: Record<string, { command: string; args: string[] }>;
      };
      const codex = parseToml(migrated['.codex/config.toml'] ?? '') as {
        mcp_servers: Record<string, { command: string; args: string[]; env_vars: string[] }>;
      };
      const claude = JSON.parse(migrated['.claude.json'] ?? '') as {
        mcpServers: Record<string, { command: string; args: string[] }>;
        projects: Record<string, { mcpServers: Record<string, { command: string; args: string[] }> }>;
      };
      const project = JSON.parse(migrated['work/project/.mcp.json'] ?? '') as {
        mcpServers: Record<string, { command: string; args: string[] }>;
      };
      const cursor = JSON.parse(migrated['.cursor/mcp.json'] ?? '') as { mcpServers: Record<string, { command: string; args: string[] }> };
      const pickEntry = <T>(servers: Record<string, T>, prefix: string): [string, T] =>
        Object.entries(servers).find(([name]) => name.startsWith(prefix)) as [string, T];
      const cases: Array<[string, string, { command: string; args: string[]; env_vars?: string[] }, 'full' | 'sdk' | 'codex', string]> = [
        ['claude-desktop', ...pickEntry(desktop.mcpServers, 'github-'), 'sdk', 'GITHUB_PERSONAL_ACCESS_TOKEN'],
        ['vscode', ...pickEntry(vscode.servers, 'openai-'), 'full', 'OPENAI_API_KEY'],
        ['codex', ...pickEntry(codex.mcp_servers, 'search-'), 'codex', 'BRAVE_API_KEY'],
        ['claude-code user', ...pickEntry(claude.mcpServers, 'slack-'), 'full', 'SLACK_BOT_TOKEN'],
        ['claude-code project', ...pickEntry(project.mcpServers, 'stripe-'), 'full', 'STRIPE_SECRET_KEY'],
        ['claude-code local', ...pickEntry(claude.projects[m.project]?.mcpServers ?? {}, 'notion-'), 'full', 'NOTION_TOKEN'],
      ];
      for (const [client, name, entry, rule, variable] of cases) {
        const key = Object.entries(m.keys).find(([k]) => name.startsWith(k))?.[1] as string;
        const { client: mcp, pid, stderr } = await launchAsClient(m, entry, rule);
        try {
          const shown = JSON.stringify((await mcp.callTool({ name: 'get-env', arguments: {} })).content);
          expect(shown, client).toContain(`[REDACTED:${name}/${variable}]`);
          expect(shown, client).not.toContain(key);
          const [child] = await descendantsOf(pid);
          expect(await procText(child!, 'environ'), client).toContain(`${variable}=${key}`);
        } finally {
          await mcp.close();
        }
        expect(stderr(), client).not.toContain(key);
      }
      // Cursor's remote entry became a stdio entry; the proxy reaches the Streamable HTTP server with the header.
      const [, remote] = pickEntry(cursor.mcpServers, 'linear-');
      const before = linear.fixture.events.length;
      const { client: mcp } = await launchAsClient(m, remote, 'full');
      try {
        expect(JSON.stringify((await mcp.callTool({ name: 'echo', arguments: { message: 'hi' } })).content)).toContain('echo: hi');
      } finally {
        await mcp.close();
      }
      const requests = linear.fixture.events.slice(before).filter((event) => event.event === 'request');
      expect(requests.length).toBeGreaterThan(0);
      expect(requests.every((event) => event.auth === 'ok')).toBe(true);
    } finally {
      await writeFile(proxyConfigPath(m), proxyText);
    }
    // Seven proxies, each with its server, one after another: a busy machine needs more than the default bound.
  }, 180_000);

  it('undo restores every file byte for byte and removes the proxy config it created', async () => {
    const result = await cli(m, ['undo']);
    expect(result.code).toBe(0);
    for (const [file, text] of Object.entries(m.files)) expect(await read(m, file), file).toBe(text);
    await expect(readFile(proxyConfigPath(m), 'utf8')).rejects.toThrow(/ENOENT/);
    expect((await cli(m, ['undo'])).stdout).toContain('Nothing to undo');
  });
});

describe('undo after the client changed the file', () => {
  it('leaves the file as it is and names the backup', async () => {
    const m = await machine();
    expect((await cli(m, ['migrate', '--yes', '--client', 'cursor'])).code).toBe(0);
    const file = join(m.home, '.cursor/mcp.json');
    await writeFile(file, `${await readFile(file, 'utf8')}\n`);
    const result = await cli(m, ['undo', '--client', 'cursor']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /changed since mcp-keyproxy wrote it, so it was left as it is; the file as it was is .*mcp\.json\.mcp-keyproxy-\d{8}T\d+Z\.bak/,
    );
  });
});

describe('install', () => {
  it('adds one entry that runs the proxy, and a second run changes nothing', async () => {
    const m = await machine();
    await mkdir(dirname(proxyConfigPath(m)), { recursive: true });
    await writeFile(
      proxyConfigPath(m),
      JSON.stringify({ servers: { everything: { command: process.execPath, args: [everythingEntry, 'stdio'] } } }),
    );
    const first = await cli(m, ['install', 'everything', '--client', 'codex', '--yes']);
    expect(first.code).toBe(0);
    const once = await read(m, '.codex/config.toml');
    const second = await cli(m, ['install', 'everything', '--client', 'codex', '--yes']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('already runs the proxy; unchanged');
    expect(await read(m, '.codex/config.toml')).toBe(once);
    const parsed = parseToml(once) as { model: string; mcp_servers: Record<string, { args: string[]; env_vars: string[] }> };
    expect(parsed.model).toBe('gpt-5');
    expect(parsed.mcp_servers.everything?.args).toEqual([binPath, 'run', 'everything', '--config', proxyConfigPath(m)]);
    expect(parsed.mcp_servers.everything?.env_vars).toEqual(['DBUS_SESSION_BUS_ADDRESS', 'XDG_RUNTIME_DIR', 'DISPLAY', 'WAYLAND_DISPLAY']);
    expect(once).toContain('# Codex settings, kept by migrate');
  });
});

describe('clients', () => {
  it('lists the files found and which entries hold plaintext keys, naming keys but never values', async () => {
    const m = await machine();
    const result = await cli(m, ['clients', '--json']);
    expect(result.code).toBe(0);
    for (const key of Object.values(m.keys)) expect(result.stdout).not.toContain(key);
    const found = JSON.parse(result.stdout) as Array<{
      client: string;
      scope: string;
      entries: Array<{ name: string; status: string; keys: string[] }>;
    }>;
    expect(found.map((f) => `${f.client}/${f.scope}`).sort()).toEqual([
      'claude-code/local',
      'claude-code/project',
      'claude-code/user',
      'claude-desktop/user',
      'codex/user',
      'cursor/user',
      'vscode/user',
    ]);
    const desktop = found.find((f) => f.client === 'claude-desktop');
    expect(desktop?.entries.find((e) => e.name === 'argkey')).toEqual({ name: 'argkey', status: 'plaintext-keys', keys: ['args[3]'] });
  });
});
