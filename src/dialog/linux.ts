import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { findDisplay, type DisplayLookup, type DisplaySearch } from './display.js';
import type { ProgramSpec } from './program.js';

/** What can show a dialog on Linux (and other X11/Wayland systems), best first, and why the others cannot. */
export type LinuxDialogs = {
  /** The display the dialogs open on, and how it was found. */
  display: DisplayLookup;
  /** Why the GTK dialog is not used (missing, built for another CPU); undefined when it is. */
  gtkSkipped?: string;
} & ({ gtk?: ProgramSpec; zenity?: ProgramSpec; unavailable?: undefined } | { gtk?: undefined; zenity?: undefined; unavailable: string });

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

/** ELF e_machine of each CPU Node runs on. */
const ELF_MACHINES: Partial<Record<NodeJS.Architecture, number>> = {
  ia32: 3,
  arm: 40,
  x64: 62,
  arm64: 183,
  riscv64: 243,
  ppc64: 21,
  s390x: 22,
  loong64: 258,
};

/** The CPU an ELF binary was built for, when it names another one than this machine's; undefined otherwise. */
export function foreignMachine(file: string, arch: NodeJS.Architecture = process.arch): number | undefined {
  const header = Buffer.alloc(20);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    if (readSync(fd, header, 0, header.length, 0) < header.length) return undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (header.readUInt32BE(0) !== 0x7f454c46) return undefined; // not ELF (a script): let it run
  const machine = header[5] === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18);
  const expected = ELF_MACHINES[arch];
  return expected === undefined || machine === expected ? undefined : machine;
}

// zenity prints through g_print, which converts to the locale's charset: under LANG=C a typed "é" would come
// back as "?". The GTK dialog writes UTF-8 whatever the locale.
function utf8Env(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const ctype = env['LC_ALL'] || env['LC_CTYPE'] || env['LANG'] || '';
  return /utf-?8/i.test(ctype) ? env : { ...env, LC_ALL: 'C.UTF-8' };
}

/** The command that builds the GTK dialog, as it works from a git clone and from the installed npm package alike. */
export function buildDialogCommand(packageRoot: string): string {
  return `bash ${join(packageRoot, 'scripts', 'build-dialog.sh')}`;
}

/** Finds the display (see display.ts), the built GTK dialog and zenity. */
export function linuxDialogs(env: NodeJS.ProcessEnv, packageRoot: string, search?: DisplaySearch): LinuxDialogs {
  const display = findDisplay(env, search);
  if (!display.env) return { display, unavailable: `there is no display: ${display.description}` };
  const dialogEnv = { ...env, ...display.env };
  const binary = join(packageRoot, 'native-dialog', 'linux', 'build', 'keyproxy-dialog');
  const build = `build it with \`${buildDialogCommand(packageRoot)}\` (needs gcc, pkg-config, libgtk-3-dev, libjson-glib-dev)`;
  const zenity = findOnPath('zenity', env);
  let gtkSkipped: string | undefined;
  const found: LinuxDialogs = { display };
  const machine = isExecutableFile(binary) ? foreignMachine(binary) : undefined;
  if (!isExecutableFile(binary)) {
    gtkSkipped = `the GTK dialog ${binary} is missing; ${build}`;
  } else if (machine !== undefined) {
    // The npm package ships the binary of the machine it was packed on (x86-64): arm64 and others build their own.
    gtkSkipped = `the GTK dialog ${binary} was built for another CPU (ELF machine ${machine}, this is ${process.arch}); ${build}`;
  } else {
    found.gtk = { file: binary, args: [], env: dialogEnv };
  }
  if (zenity) found.zenity = { file: zenity, args: [], env: utf8Env(dialogEnv) };
  if (!found.gtk && !found.zenity) {
    return { display, gtkSkipped, unavailable: `${gtkSkipped ?? 'no dialog program'}, and zenity is not installed` };
  }
  return { ...found, gtkSkipped };
}
