"""What a sandboxed agent can see and do: its identity, files, network and neighbours."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from botarena.executor.sandbox import Limits, SandboxedProcess

StartAgent = Callable[..., SandboxedProcess]
ReadJson = Callable[..., dict[str, Any]]

pytestmark = pytest.mark.timeout(30)

KIB = 1024

IDENTITY = r"""
import ctypes, getpass, json, os, resource, sys

def attempt(action):
    try:
        action()
    except OSError as exc:
        return exc.errno
    return 0

def write(path, size):
    with open(path, "wb") as stream:
        stream.write(b"x" * size)

secret, tmp_name = sys.argv[1], sys.argv[2]
status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines())
libc = ctypes.CDLL(None, use_errno=True)
unshared = libc.unshare(0x10000000)  # CLONE_NEWUSER
print(json.dumps({
    "uid": os.getuid(), "gid": os.getgid(), "user": getpass.getuser(),
    "cap_eff": status["CapEff"].strip(), "no_new_privs": status["NoNewPrivs"].strip(),
    "nested_userns": unshared == 0,
    "shadow": attempt(lambda: open("/etc/shadow").read()),
    "etc": sorted(os.listdir("/etc")),
    "secret": attempt(lambda: open(secret).read()),
    "agent_write": attempt(lambda: write("/agent/new-file", 1)),
    "root_write": attempt(lambda: write("/new-file", 1)),
    "usr_write": attempt(lambda: write("/usr/new-file", 1)),
    "dev_write": attempt(lambda: write("/dev/new-file", 1)),
    "shm_full": attempt(lambda: write("/dev/shm/big", 2 * 1024 * 1024)),
    "tmp_small": attempt(lambda: write(f"/tmp/{tmp_name}", 256 * 1024)),
    "tmp_full": attempt(lambda: write("/tmp/big", 2 * 1024 * 1024)),
    "open_files": resource.getrlimit(resource.RLIMIT_NOFILE),
    "file_size": resource.getrlimit(resource.RLIMIT_FSIZE),
    "core": resource.getrlimit(resource.RLIMIT_CORE),
    "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
    "hostname": os.uname().nodename,
}), flush=True)
"""


def test_agent_is_unprivileged_and_sees_only_its_files(
    start_agent: StartAgent, read_json: ReadJson, tmp_path: Path
) -> None:
    secret = tmp_path / "platform.db"  # stands for the platform's database, next door
    secret.write_text("every participant's password hash")
    tmp_name = f"sandbox-{uuid.uuid4().hex}"
    limits = Limits(tmp_bytes=1024 * KIB, open_files=100, file_size_bytes=4096 * KIB)
    agent = start_agent(IDENTITY, limits, args=(str(secret), tmp_name))

    seen = read_json(agent)

    assert (seen["uid"], seen["gid"], seen["user"]) == (65534, 65534, "agent")
    assert int(seen["cap_eff"], 16) == 0
    assert seen["no_new_privs"] == "1"
    assert not seen["nested_userns"], "the agent could make a user namespace of its own"
    assert seen["shadow"] != 0
    assert "shadow" not in seen["etc"]
    assert seen["secret"] != 0
    assert {seen["agent_write"], seen["root_write"], seen["usr_write"], seen["dev_write"]} == {
        30  # EROFS
    }
    assert seen["tmp_small"] == 0
    assert seen["tmp_full"] == 28  # ENOSPC: the private /tmp is capped
    assert seen["shm_full"] == 28  # and so is /dev/shm
    assert seen["open_files"] == [100, 100]
    assert seen["file_size"] == [4096 * KIB, 4096 * KIB]
    assert seen["core"] == [0, 0]
    assert seen["fds"] == [0, 1, 2, 3]  # the three pipes and the listing's own fd
    assert seen["hostname"] == "sandbox"
    assert agent.wait(5) == 0
    assert not (Path("/tmp") / tmp_name).exists()


NETWORK = r"""
import json, socket, sys

def connect(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        return exc.errno or str(exc)
    return 0

print(json.dumps({
    "loopback": connect("127.0.0.1", int(sys.argv[1])),
    "outside": connect("192.0.2.1", 80),
    "interfaces": [name for _, name in socket.if_nameindex()],
}), flush=True)
"""


def test_agent_has_no_network(start_agent: StartAgent, read_json: ReadJson) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        agent = start_agent(NETWORK, args=(str(port),))

        seen = read_json(agent)

        with pytest.raises(TimeoutError):
            listener.accept()
    assert seen["loopback"] != 0
    assert seen["outside"] != 0
    assert seen["interfaces"] == ["lo"]


NEIGHBOURS = r"""
import json, os, signal, sys

def signal_host(pid):
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno
    return 0

print(json.dumps({
    "kill_host": signal_host(int(sys.argv[1])),
    "processes": sorted(int(name) for name in os.listdir("/proc") if name.isdigit()),
    "pid": os.getpid(),
}), flush=True)
"""


def test_agent_cannot_see_or_signal_host_processes(
    start_agent: StartAgent, read_json: ReadJson
) -> None:
    agent = start_agent(NEIGHBOURS, args=(str(os.getpid()),))

    seen = read_json(agent)

    assert seen["kill_host"] == 3  # ESRCH: our pid does not exist in its namespace
    # Only bubblewrap's init (pid 1) and the agent itself.
    assert seen["processes"] == [1, seen["pid"]]
