import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser';
import { parse as parseToml } from 'smol-toml';
import { afterAll, beforeAll, expect } from 'vitest';
import { requireKeyringSession, secretToolSearch } from './keyring.js';
import { everythingEntry, inheritedEnv, runBin } from './proxy.js';
import { startRemoteFixture, type HttpServerProcess } from './remote.js';

// The machines of the migrate e2e files (test/e2e/migrate*.test.ts): a HOME with six clients' config files, each
// with a key pasted in.

/** A fresh HOME holding real-shaped files of six clients, each with a key pasted in; a project folder as cwd. */
export interface Machine {
  home: string;
  project: string;
  env: NodeJS.ProcessEnv;
  keys: Record<string, string>;
  files: Record<string, string>;
}

let fixture: HttpServerProcess;
const fixtureToken = `lin_api_${randomBytes(16).toString('hex')}`;

/**
 * Starts (beforeAll) and stops (afterAll) the remote server each machine's Cursor entry points at, whose token is
 * one of the keys; returns it (read it once the hooks have run).
 */
export function useRemoteFixture(): { readonly fixture: HttpServerProcess } {
  beforeAll(async () => {
    requireKeyringSession();
    fixture = await startRemoteFixture({ token: fixtureToken });
  });
  afterAll(async () => {
    await fixture.stop();
  });
  return {
    get fixture() {
      return fixture;
    },
  };
}

/** A new machine (needs `useRemoteFixture` in the file). */
export async function machine(): Promise<Machine> {
  const home = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-home-'));
  const project = join(home, 'work', 'project');
  const tag = randomBytes(4).toString('hex');
  const keys = {
    github: `ghp_${randomBytes(18).toString('hex')}`,
    openai: `sk-proj-${randomBytes(18).toString('hex')}`,
    search: `BSA${randomBytes(18).toString('hex')}`,
    slack: `xoxb-${randomBytes(18).toString('hex')}`,
    stripe: `sk_test_${randomBytes(18).toString('hex')}`,
    notion: `secret_${randomBytes(18).toString('hex')}`,
    linear: fixtureToken,
  };
  const node = process.execPath;
  const ev = JSON.stringify(everythingEntry);
  const files: Record<string, string> = {
    '.config/Claude/claude_desktop_config.json': `{
  "globalShortcut": "Ctrl+Space",
  "mcpServers": {
    "github-${tag}": { "command": "${node}", "args": [${ev}, "stdio"], "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "${keys.github}", "LOG_LEVEL": "debug" } },
    "plain": { "command": "npx", "args": ["-y", "some-server"] },
    "argkey": { "command": "npx", "args": ["-y", "tool", "--api-key", "ghp_${'b'.repeat(36)}"] }
  }
}
`,
    '.config/Code/User/mcp.json': `{
  // My MCP servers (VS Code keeps this comment)
  "inputs": [{ "type": "promptString", "id": "pat", "description": "PAT", "password": true }],
  "servers": {
    "openai-${tag}": {
      "type": "stdio", // local server
      "command": "${node}",
      "args": [${ev}, "stdio"],
      "env": { "OPENAI_API_KEY": "${keys.openai}" },
    },
    "withinput": { "type": "stdio", "command": "node", "env": { "TOKEN": "\${input:pat}" } },
  },
}
`,
    '.codex/config.toml': `# Codex settings, kept by migrate
model = "gpt-5"

# the search server
[mcp_servers.search-${tag}]
command = "${node}"
args = [${ev}, "stdio"]
startup_timeout_sec = 20

[mcp_servers.search-${tag}.env]
BRAVE_API_KEY = "${keys.search}"

# profiles below
[profiles.fast]
model = "gpt-5-mini"
`,
    '.cursor/mcp.json': `{ "mcpServers": { "linear-${tag}": { "url": "${fixture.origin}/mcp", "headers": { "Authorization": "Bearer ${keys.linear}" } } } }\n`,
    '.claude.json': `{
  "numStartups": 12,
  "mcpServers": { "slack-${tag}": { "type": "stdio", "command": "${node}", "args": [${ev}, "stdio"], "env": { "SLACK_BOT_TOKEN": "${keys.slack}" } } },
  "projects": { "${project}": { "allowedTools": [], "mcpServers": { "notion-${tag}": { "type": "stdio", "command": "${node}", "args": [${ev}, "stdio"], "env": { "NOTION_TOKEN": "${keys.notion}" } } } } }
}
`,
    'work/project/.mcp.json': `{ "mcpServers": { "stripe-${tag}": { "command": "${node}", "args": [${ev}, "stdio"], "env": { "STRIPE_SECRET_KEY": "${keys.stripe}" } } } }\n`,
  };
  for (const [file, text] of Object.entries(files)) {
    await mkdir(dirname(join(home, file)), { recursive: true });
    await writeFile(join(home, file), text);
  }
  const env: NodeJS.ProcessEnv = { ...inheritedEnv(), HOME: home };
  for (const name of [
    'XDG_CONFIG_HOME',
    'XDG_STATE_HOME',
    'MCP_KEYPROXY_CONFIG',
    'MCP_KEYPROXY_STATE_DIR',
    'CODEX_HOME',
    'CLAUDE_CONFIG_DIR',
  ])
    delete env[name];
  return { home, project, env, keys, files };
}

export const cli = (m: Machine, args: string[], extra: NodeJS.ProcessEnv = {}) =>
  runBin(args, { env: { ...m.env, ...extra }, cwd: m.project });
export const read = (m: Machine, file: string) => readFile(join(m.home, file), 'utf8');
export const proxyConfigPath = (m: Machine) => join(m.home, '.config/mcp-keyproxy/proxy.config.json');

export async function keychainHolds(value: string, server: string): Promise<boolean> {
  return (await secretToolSearch(server)).includes(`secret = ${value}\n`);
}

/** Every client file still parses (JSONC or TOML). */
export async function expectParseable(m: Machine): Promise<void> {
  for (const file of Object.keys(m.files)) {
    const text = await read(m, file);
    if (file.endsWith('.toml')) expect(() => parseToml(text)).not.toThrow();
    else {
      const errors: unknown[] = [];
      parseJsonc(text, errors as never, { allowTrailingComma: true });
      expect(errors).toEqual([]);
    }
  }
}
