"""`make run` under a pseudo-terminal, as a person starts it: Ctrl-C stops the web server, the
worker and beat together, and make exits 0 with no traceback and no crash."""

import os
import pty
import select
import shutil
import socket
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 400  # a fresh SQLite database is migrated and seeded first


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_until(fd: int, output: bytearray, done, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done(output):
            return True
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                output.extend(os.read(fd, 65536))
            except OSError:  # the terminal closed: every process on it has gone
                return done(output)
    return done(output)


def wait_exit(pid: int, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.2)
    os.killpg(pid, 9)  # pty.fork made make a session leader: its group is its pid
    os.waitpid(pid, 0)
    return -9


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_it_stops_cleanly_on_ctrl_c(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    env["ALM_VAR_DIR"] = str(tmp_path / "var")
    pid, fd = pty.fork()
    if pid == 0:  # the child: make, on the new terminal
        os.chdir(ROOT)
        os.execvpe("make", ["make", "run", f"PORT={free_port()}"], env)
    output = bytearray()
    try:
        assert read_until(fd, output, lambda out: b"worker@" in out and b" ready." in out
                          and b"Quit the server" in out, START_SECONDS), bytes(output)[-2000:]
        os.write(fd, b"\x03")  # Ctrl-C, as typed
        read_until(fd, output, lambda out: b"Stopped." in out, 60)
    finally:
        exit_code = wait_exit(pid, 60)
    text = output.decode(errors="replace")
    assert exit_code == 0, text[-2000:]
    assert "Stopped." in text
    assert "Segmentation fault" not in text
    assert "Traceback" not in text
    assert text.count("Warm shutdown") <= 1
