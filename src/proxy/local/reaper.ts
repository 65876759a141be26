import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A safety net for the servers the proxy starts: a `/bin/sh` in a process group of its own that outlives the proxy.
 * The proxy tells it each process group it starts (`+pgid`) and each that has no process left (`-pgid`; not when
 * the leader exits); when its stdin closes — the proxy is gone, however it ended, SIGKILL included — it sends SIGTERM
 * to the groups still running, and SIGKILL 2 s later. A normal stop has emptied every group before that, so then it
 * just exits.
 */
const REAPER_SCRIPT = `
groups=" "
while IFS= read -r line; do
  case "$line" in
    +*) groups="$groups\${line#+} " ;;
    -*) kept=" "; for g in $groups; do [ "$g" = "\${line#-}" ] || kept="$kept$g "; done; groups=$kept ;;
  esac
done
[ -n "\${groups# }" ] || exit 0
for g in $groups; do kill -s TERM -- "-$g" 2>/dev/null; done
sleep 2
for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done
`;

let reaper: ChildProcess | undefined;
let unavailable = false;

function tell(line: string): void {
  if (process.platform === 'win32' || unavailable) return;
  reaper ??= startReaper();
  reaper.stdin?.write(`${line}\n`);
}

function startReaper(): ChildProcess {
  const child = spawn('/bin/sh', ['-c', REAPER_SCRIPT], {
    // Nothing of the proxy's environment: it only needs `kill` and `sleep`.
    env: { PATH: '/usr/bin:/bin' },
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  // A missing /bin/sh only loses the safety net: the proxy still stops its servers whenever it can run code.
  child.once('error', () => {
    unavailable = true;
    reaper = undefined;
  });
  child.stdin?.on('error', () => undefined);
  // Neither the reaper nor the pipe to it keeps the proxy running.
  child.unref();
  (child.stdin as { unref?: () => void } | null)?.unref?.();
  return child;
}

/** The process group `pgid` (a server the proxy started) must not outlive the proxy. */
export function watchGroup(pgid: number): void {
  tell(`+${pgid}`);
}

/** No process of the group `pgid` is left (its leader exiting is not enough); its number may be reused. */
export function releaseGroup(pgid: number): void {
  tell(`-${pgid}`);
}
