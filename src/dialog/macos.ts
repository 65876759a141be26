import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ProgramSpec } from './program.js';

/** The JXA dialog run by osascript, or why it cannot run. Not yet verified by a test run (no macOS in CI). */
export function macosDialog(env: NodeJS.ProcessEnv, packageRoot: string): ProgramSpec | { unavailable: string } {
  const script = join(packageRoot, 'native-dialog', 'macos', 'keyproxy-dialog.js');
  if (!existsSync(script)) return { unavailable: `the dialog script ${script} is missing` };
  // An absolute path: a stray `osascript` earlier on PATH must not receive the template.
  return { file: '/usr/bin/osascript', args: ['-l', 'JavaScript', script], env };
}
