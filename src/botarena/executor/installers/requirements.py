"""Reading a ``requirements.txt``: its meaningful lines, and whether it names local files."""

from __future__ import annotations

from pathlib import Path

# Options that only say where to look on the network; any other option (-r, -c, -e, -f,
# ...) may name a file or folder next to the requirements.
_REMOTE_OPTIONS = (
    "-i",
    "--index-url",
    "--extra-index-url",
    "--pre",
    "--prefer-binary",
    "--only-binary",
    "--no-binary",
    "--trusted-host",
)


def requirement_lines(requirements: Path) -> list[str]:
    """The lines as written, minus comments and blank lines (options are kept whole)."""
    lines = []
    for raw in requirements.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("-") else raw.strip()
        if line:
            lines.append(line)
    return lines


def refers_to_local_files(lines: list[str]) -> bool:
    """Whether installing may read files beside the requirements (``./pkg``, ``-r other.txt``,
    ``file:`` URLs). Errs on the side of yes."""
    for line in lines:
        if "file:" in line or "\\" in line:
            return True
        if line.startswith("-"):
            if not line.startswith(_REMOTE_OPTIONS):
                return True
        elif line.startswith((".", "/", "~")) or ("/" in line and "://" not in line):
            return True
    return False
