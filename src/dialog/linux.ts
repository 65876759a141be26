import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { ProgramSpec } from './program.js';

/** What can show a dialog on Linux (and other X11/Wayland systems), best first. */
export type LinuxDialogs =
  { gtk?: ProgramSpec; zenity?: ProgramSpec; unavailable?: undefined } | { gtk?: undefined; zenity?: undefined; unavailable: string };

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first executable `name` in the PATH of `env` (absolute entries only: a relative one depends on the cwd). */
function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const file = join(dir, name);
    if (isExecutableFile(file)) return file;
  }
  return undefined;
}

// zenity prints through g_print, which converts to the locale's charset: under LANG=C a typed "é" would come
// back as "?". The GTK dialog writes UTF-8 whatever the locale.
function utf8Env(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const ctype = env['LC_ALL'] || env['LC_CTYPE'] || env['LANG'] || '';
  return /utf-?8/i.test(ctype) ? env : { ...env, LC_ALL: 'C.UTF-8' };
}

/** Finds the built GTK dialog and zenity; both need a display. */
export function linuxDialogs(env: NodeJS.ProcessEnv, packageRoot: string): LinuxDialogs {
  if (!env['DISPLAY'] && !env['WAYLAND_DISPLAY']) {
    return { unavailable: 'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' };
  }
  const binary = join(packageRoot, 'native-dialog', 'linux', 'build', 'keyproxy-dialog');
  const zenity = findOnPath('zenity', env);
  const found: LinuxDialogs = {};
  if (isExecutableFile(binary)) found.gtk = { file: binary, args: [], env };
  if (zenity) found.zenity = { file: zenity, args: [], env: utf8Env(env) };
  if (!found.gtk && !found.zenity) {
    return {
      unavailable: `the dialog program ${binary} is missing (build it with \`npm run build:dialog\`) and zenity is not installed`,
    };
  }
  return found;
}
