"""A program that tries every call the sandbox's syscall filter denies and reports how each
ended, for tests that run it for real: as a sandboxed program, as an agent, as build code.

:func:`probe_source` is the text of :mod:`support.syscall_probe`, standard-library Python
that defines ``probe_syscalls()`` (label → ``0`` for success, the errno of a failure, or
``"signal N"`` when the attempt was killed) and ``ordinary_calls()`` (what every program
needs, label → ``"ok"`` or the error). Each attempt runs in a child process of its own, so
that one that succeeds (with the filter off) changes nothing for the next. Syscall numbers
come from libseccomp on the host: the C library wraps few of these calls, so the program
makes them by number.
"""

from __future__ import annotations

import errno
import importlib
import json
import signal
from collections.abc import Iterable
from pathlib import Path

from botarena.executor.sandbox.seccomp import DENIED

PROBE_FILE = Path(__file__).with_name("syscall_probe.py")
# Calls the probe makes besides the denied ones.
_OTHERS = ("clone", "clone3", "socket", "getpid", "pidfd_open")

# How each attempt ends under the filter.
DENIED_ERRNO = errno.EPERM
KILLED = f"signal {int(signal.SIGSYS)}"
EXPECTED_OTHERWISE = {"clone3": errno.ENOSYS, "x32_abi": KILLED, "i386_abi": KILLED}

# Attempts an unprivileged process inside the sandbox gets through without the filter (the
# rest fail for want of a capability anyway), so a test can tell that the filter is on.
GET_THROUGH_WITHOUT_FILTER = (
    "keyctl",
    "add_key",
    "ptrace_traceme",
    "clone3",
    "name_to_handle_at",
    "process_vm_readv",
    "kcmp",
    "pidfd_getfd",
    "adjtimex",
    "clock_adjtime",
    "get_mempolicy",
)


def syscall_numbers() -> dict[str, int]:
    """This machine's number of every call the probe makes, from libseccomp."""
    seccomp = importlib.import_module("pyseccomp")
    names = [name for group in DENIED.values() for name in group] + list(_OTHERS)
    numbers = {name: int(seccomp.resolve_syscall(seccomp.Arch.NATIVE, name)) for name in names}
    return {name: number for name, number in numbers.items() if number >= 0}


def expected_results(labels: Iterable[str]) -> dict[str, object]:
    """What each of ``labels`` must report under the filter."""
    return {label: EXPECTED_OTHERWISE.get(label, DENIED_ERRNO) for label in labels}


def hostile_agent_source() -> str:
    """A Kaggle-style ``main.py`` that tries every denied call while it loads (before the
    match's clock runs) and logs the outcomes as ``SYSCALLS {json}``, and what ordinary calls
    gave as ``ORDINARY {json}``. It plays its first move fairly; on its second turn it makes an
    illegal move if any call got through, and otherwise raises."""
    return probe_source() + _HOSTILE_AGENT


def logged(log: str, label: str) -> dict[str, object]:
    """The JSON object a probe wrote to its log after ``label``."""
    line = next(line for line in log.splitlines() if line.startswith(label + " "))
    value = json.loads(line.split(" ", 1)[1])
    assert isinstance(value, dict)
    return value


def probe_source(numbers: dict[str, int] | None = None) -> str:
    """The probe's source (:mod:`support.syscall_probe`), with this machine's syscall numbers
    written in."""
    table = syscall_numbers() if numbers is None else numbers
    return PROBE_FILE.read_text() + f"\nNR.update({table!r})\n"


_HOSTILE_AGENT = """
import random

TRIED = probe_syscalls()
print("SYSCALLS", json.dumps(TRIED), file=sys.stderr, flush=True)
print("ORDINARY", json.dumps(ordinary_calls()), file=sys.stderr, flush=True)
turns = 0


def agent(obs, conf):
    global turns
    turns += 1
    if turns == 1:
        return random.choice([c for c in range(conf.columns) if obs.board[c] == 0])
    if 0 in TRIED.values():
        return conf.columns + 1
    raise RuntimeError("no denied syscall got through")
"""
