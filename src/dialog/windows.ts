import { existsSync } from 'node:fs';
import { join, win32 } from 'node:path';
import type { ProgramSpec } from './program.js';

/** The PowerShell + WinForms dialog, or why it cannot run. Not yet verified by a test run (no Windows in CI). */
export function windowsDialog(env: NodeJS.ProcessEnv, packageRoot: string): ProgramSpec | { unavailable: string } {
  const script = join(packageRoot, 'native-dialog', 'windows', 'keyproxy-dialog.ps1');
  if (!existsSync(script)) return { unavailable: `the dialog script ${script} is missing` };
  const systemRoot = env['SystemRoot'] ?? env['SYSTEMROOT'];
  const file = systemRoot ? win32.join(systemRoot, 'System32', 'WindowsPowerShell', 'v1.0', 'powershell.exe') : 'powershell.exe';
  const args = ['-NoProfile', '-NonInteractive', '-STA', '-ExecutionPolicy', 'Bypass', '-WindowStyle', 'Hidden'];
  // windowsHide would pass SW_HIDE in STARTUPINFO, which Windows applies to the first window the process shows:
  // the form itself. -WindowStyle Hidden hides only the console.
  return { file, args: [...args, '-File', script], env, windowsHide: false };
}
