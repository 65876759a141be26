"""Runs a command on a real pseudo-terminal, so a test can type at it as a person would.

Usage: pty-bridge.py [--stderr-only] -- command [args...]

Default: the command's stdin, stdout and stderr are the terminal (it is its controlling terminal, so Ctrl-C sent
as a byte becomes SIGINT as in a shell). This process copies its own stdin to the terminal (the keys a test types)
and the terminal's output to its own stdout.

--stderr-only: only the command's stderr is the terminal; its stdin and stdout are this process's (pipes), and
the terminal's output is copied to this process's stderr. For a proxy whose stdout is JSON-RPC.

When the command ends, a last line `pty-bridge: exit <code>` goes to stderr (128 + n for signal n), and this
process exits with that code.
"""

import fcntl
import os
import pty
import select
import struct
import sys
import termios


def set_size(fd):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))


def status_code(status):
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def main():
    args = sys.argv[1:]
    stderr_only = False
    if args and args[0] == "--stderr-only":
        stderr_only = True
        args = args[1:]
    if not args or args[0] != "--" or len(args) < 2:
        sys.stderr.write(__doc__)
        return 2
    command = args[1:]

    if stderr_only:
        master, slave = pty.openpty()
        set_size(slave)
        pid = os.fork()
        if pid == 0:
            os.close(master)
            os.dup2(slave, 2)
            os.close(slave)
            os.execvp(command[0], command)
        os.close(slave)
        sources = {master: 2}
    else:
        pid, master = pty.fork()
        if pid == 0:
            os.execvp(command[0], command)
        set_size(master)
        sources = {master: 1, 0: master}

    status = None
    open_fds = set(sources)
    while True:
        if status is None:
            done, child_status = os.waitpid(pid, os.WNOHANG)
            if done:
                status = child_status
        if not open_fds:
            break
        ready, _, _ = select.select(list(open_fds), [], [], 0.05)
        if not ready and status is not None:
            break
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                open_fds.discard(fd)
                continue
            os.write(sources[fd], data)
        if master not in open_fds and status is None:
            _, status = os.waitpid(pid, 0)
    if status is None:
        _, status = os.waitpid(pid, 0)
    code = status_code(status)
    os.write(2, ("\npty-bridge: exit %d\n" % code).encode())
    return code


if __name__ == "__main__":
    sys.exit(main())
