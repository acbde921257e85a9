"""The program that runs inside the install sandbox: builds the environment, then copies it
out. Only the standard library: it runs under the bare interpreter in isolated mode.

It reads a JSON plan (``argv[1]``) of the commands to run, and on stdin the name of the host
folder to copy the environment into. That folder sits in a folder the sandbox may pass
through but not list, so only its name leads to it, and the name is kept from the untrusted
part (the build code of the packages pip installs, running as the same user):

- it is read before anything untrusted starts, from a pipe that is then empty;
- this process makes itself non-dumpable first, so that no other process of the user can
  read its memory or its open files through ``/proc``;
- before copying, every other process in the sandbox is killed.

The sandbox has no network but its own loopback interface. When the plan names the egress
proxy's socket (``proxy``), a relay on ``127.0.0.1`` passes each connection made to it on to
that socket, and pip is pointed at the relay by the proxy variables: the proxy, outside,
decides where a connection may go.

The exit code tells the host which step failed (pip's own codes are small).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

SOURCE_FAILED = 96
VENV_FAILED = 97
COPY_FAILED = 98
SETUP_FAILED = 99

_PR_SET_DUMPABLE = 4
_SETTLE_TIMEOUT = 5.0
_CHUNK = 64 * 1024
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "PIP_PROXY")
NO_PROXY_VARIABLES = ("NO_PROXY", "no_proxy")


def main(argv: list[str]) -> int:
    os.dup2(1, 2)  # one stream, in order
    try:
        return _install(argv)
    except Exception as exc:  # a bug of ours, not a failing requirement
        print(f"the install program failed: {exc!r}", flush=True)
        return SETUP_FAILED


def _install(argv: list[str]) -> int:
    if int(ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)) != 0:
        print("cannot make the install process non-dumpable", flush=True)
        return SETUP_FAILED
    name = sys.stdin.readline().strip()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    plan = json.loads(argv[1])
    if not name.isalnum():
        print("no staging folder name on stdin", flush=True)
        return SETUP_FAILED
    if plan.get("proxy"):
        url = f"http://127.0.0.1:{_start_relay(plan['proxy'])}"
        os.environ.update({variable: url for variable in PROXY_VARIABLES})
        os.environ.update({variable: "" for variable in NO_PROXY_VARIABLES})
    if _run(plan["source"], plan["cwd"]) != 0:
        return SOURCE_FAILED
    print("creating the environment", flush=True)
    if _run(plan["venv"], plan["cwd"]) != 0:
        return VENV_FAILED
    code = _run(plan["pip"], plan["cwd"])
    if code != 0:
        return code if 0 < code < SOURCE_FAILED else 1
    _kill_everything_else()
    print("copying the environment out", flush=True)
    out = f"{plan['out']}/{name}"
    if _run(["cp", "-a", f"{plan['env']}/.", f"{out}/"], "/") != 0:
        return COPY_FAILED
    # The build code could have left set-user-id files; out there they would belong to root.
    if _run(["chmod", "-R", "ug-s", out], "/") != 0:
        return COPY_FAILED
    return 0


def _start_relay(proxy_socket: str) -> int:
    """Listen on a free port of the sandbox's loopback, in a thread that relays each
    connection to ``proxy_socket``; return the port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    thread = threading.Thread(target=asyncio.run, args=(_relay(listener, proxy_socket),))
    thread.daemon = True
    thread.start()
    return int(listener.getsockname()[1])


async def _relay(listener: socket.socket, proxy_socket: str) -> None:
    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream = await asyncio.open_unix_connection(proxy_socket)
        except OSError:
            writer.close()
            return
        # The proxy ends idle connections; each direction ends when its side does.
        await asyncio.gather(_pump(reader, upstream[1]), _pump(upstream[0], writer))
        writer.close()
        upstream[1].close()

    server = await asyncio.start_server(one, sock=listener)
    await server.serve_forever()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        pass


def _run(argv: list[str], cwd: str) -> int:
    try:
        return subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, check=False).returncode
    except OSError as exc:
        print(f"cannot run {argv[0]}: {exc}", flush=True)
        return 127


def _kill_everything_else() -> None:
    """SIGKILL every process of the sandbox but this one and bubblewrap's init, and wait
    until they are gone (leftovers of build code may have detached themselves)."""
    with contextlib.suppress(ProcessLookupError):  # there was none
        os.kill(-1, signal.SIGKILL)
    deadline = time.monotonic() + _SETTLE_TIMEOUT
    while _others_alive() and time.monotonic() < deadline:
        time.sleep(0.01)


def _others_alive() -> bool:
    while True:  # reap our own killed children
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in (1, os.getpid()):
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                state = file.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X"):
            return True
    return False


if __name__ == "__main__":
    sys.exit(main(sys.argv))
