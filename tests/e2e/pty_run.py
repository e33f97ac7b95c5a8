#!/usr/bin/python3
"""Runs a command on a pseudo-terminal, for tests of what a user at a
terminal sees.

    pty_run.py TRANSCRIPT WAIT SEND -- COMMAND [ARG]...

Starts COMMAND with a new pseudo-terminal as its standard input, output and
error, waits until the text WAIT has appeared on it, types SEND (Python
escapes: "\\r" is Enter, "\\x03" is Ctrl-C), and reads what the terminal
shows until COMMAND ends.  Everything shown goes to the file TRANSCRIPT.

Prints one line: "exit N" or "signal N", then the terminal's echo setting
after COMMAND ended ("echo on" or "echo off").  Exits 0 when it could tell,
2 when WAIT never appeared or COMMAND did not end within 10 seconds (it is
then killed).
"""
import os
import pty
import select
import signal
import sys
import termios
import time

TIMEOUT = 10.0


def read_some(fd, deadline):
    """Bytes from the terminal, b"" at its end, None at the deadline."""
    left = deadline - time.monotonic()
    if left <= 0:
        return None
    ready, _, _ = select.select([fd], [], [], left)
    if not ready:
        return None
    try:
        return os.read(fd, 4096)
    except OSError:  # EIO: every slave descriptor is closed
        return b""


def main():
    if len(sys.argv) < 6 or sys.argv[4] != "--":
        sys.exit(__doc__)
    transcript, wait = sys.argv[1], sys.argv[2].encode()
    send = sys.argv[3].encode().decode("unicode_escape").encode("latin-1")
    argv = sys.argv[5:]

    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)

    shown = b""
    deadline = time.monotonic() + TIMEOUT
    ok = True
    while wait not in shown:
        chunk = read_some(fd, deadline)
        if not chunk:
            ok = False
            break
        shown += chunk
    if ok:
        # Let the command reach its read() after the prompt.
        time.sleep(0.2)
        os.write(fd, send)
        while True:
            chunk = read_some(fd, deadline)
            if chunk is None:
                ok = False
                break
            if chunk == b"":
                break
            shown += chunk
    if not ok:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    echo = termios.tcgetattr(fd)[3] & termios.ECHO
    os.close(fd)
    with open(transcript, "wb") as f:
        f.write(shown)
    if not ok:
        print("pty_run: %s" % ("no %r shown" % wait.decode()
                               if wait not in shown else
                               "the command did not end"), file=sys.stderr)
        sys.exit(2)
    if os.WIFSIGNALED(status):
        print("signal %d" % os.WTERMSIG(status))
    else:
        print("exit %d" % os.WEXITSTATUS(status))
    print("echo %s" % ("on" if echo else "off"))


main()
