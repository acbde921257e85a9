"""The resource limits of one sandboxed agent process, and how to say a size to a person."""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


@dataclass(frozen=True)
class Limits:
    """What one agent may use; the defaults suit a game-playing program.

    ``pids`` counts the agent's processes *and threads*; the sandbox's own two supervisor
    processes come on top. ``cpu_cores`` is a CFS quota (0.5 = half of one core), not a pinning.
    ``tmp_bytes`` caps the private ``/tmp``, and separately ``/dev/shm``. Both live in memory,
    so what is written there also counts towards ``memory_bytes`` where cgroups enforce it.
    """

    memory_bytes: int = 512 * MIB
    pids: int = 64
    cpu_cores: float = 1.0
    tmp_bytes: int = 64 * MIB
    open_files: int = 256
    file_size_bytes: int = 64 * MIB
    stack_bytes: int | None = None
    core_bytes: int = 0

    def __post_init__(self) -> None:
        positive = {
            "memory_bytes": self.memory_bytes,
            "pids": self.pids,
            "tmp_bytes": self.tmp_bytes,
            "open_files": self.open_files,
            "file_size_bytes": self.file_size_bytes,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ValueError(f"{name} must be positive, not {value}")
        # The kernel refuses a CFS quota under one millisecond per 100 ms period.
        if not self.cpu_cores >= 0.01:
            raise ValueError(f"cpu_cores must be at least 0.01, not {self.cpu_cores}")
        if self.stack_bytes is not None and self.stack_bytes <= 0:
            raise ValueError(f"stack_bytes must be positive, not {self.stack_bytes}")
        if self.core_bytes < 0:
            raise ValueError(f"core_bytes cannot be negative, not {self.core_bytes}")


def format_bytes(size: int) -> str:
    """``536870912`` -> ``"512 MiB"``: the largest binary unit that divides the size exactly."""
    for unit, name in ((GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    if size >= MIB:
        return f"{size / MIB:.1f} MiB"
    return f"{size} bytes"
