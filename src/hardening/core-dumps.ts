import { writeFileSync } from 'node:fs';

/** The kernel's per-process choice of which memory mappings a core file holds (man 5 core, "coredump_filter"). */
const FILTER_FILE = '/proc/self/coredump_filter';

/** Keeps secrets out of core files (Linux: no memory mapping is dumped, children inherit it); never throws. */
export function disableCoreDumps(platform: NodeJS.Platform = process.platform, file = FILTER_FILE): void {
  // Node can call neither setrlimit nor prctl, so a crash may still write a core file; with the filter at 0 it
  // holds no mapping (heap, stack, written file pages, ELF headers), only the kernel's notes (registers, the
  // first 80 bytes of argv, the mapped file names) and the vDSO. The value survives fork and execve, so servers
  // and dialogs started later inherit it. Other platforms write no core file unless set up to (SECURITY.md).
  if (platform !== 'linux') return;
  try {
    // 'r+': write into the kernel's file, never create one where /proc is missing. `platform`, `file`: for tests.
    writeFileSync(file, '0', { flag: 'r+' });
  } catch {
    // No /proc, or a read-only one (some sandboxes): nothing else can be done without a native addon.
  }
}
