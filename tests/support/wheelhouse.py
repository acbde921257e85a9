"""The wheels the botarena image is built from when no package index is reachable.

The image's build (the repository's ``Dockerfile``) runs offline in the tests: this machine
reaches the package index through its own pip configuration, which a build container does not
have. So the wheels are fetched here, on the host, with the host's pip: the exact files
``uv export --frozen --no-dev`` names (their hashes are checked again in the build), uv itself
and the project's build backend. uv comes from its own wheel, so the host needs no uv of its
own. Both sets are kept under the run's download cache, the locked wheels by the exported
requirements' digest (a change of the test dependencies fetches nothing), so a run with
``BOTARENA_TEST_CACHE`` set fetches nothing the second time.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What the Dockerfile's build stage installs besides the locked dependencies.
BUILD_TOOLS = ("hatchling",)
_DONE = ".complete"


def uv_version() -> str:
    """The uv the Dockerfile pins (its ``ARG UV_VERSION``)."""
    found = re.search(r"^ARG UV_VERSION=(\S+)$", (ROOT / "Dockerfile").read_text(), re.M)
    if found is None:
        raise AssertionError("the Dockerfile pins no UV_VERSION")
    return found.group(1)


def host_python() -> str:
    """The interpreter the test environment was made from: it has pip (the test environment,
    made by uv, has none) and the machine's pip configuration."""
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    return str(Path(sys.base_prefix) / "bin" / version)


def _pip_download(*args: str) -> None:
    subprocess.run(
        [host_python(), "-m", "pip", "download", "--quiet", "--disable-pip-version-check", *args],
        check=True,
        capture_output=True,
        timeout=600,
    )


def _filled(folder: Path, fill: Callable[[Path], None]) -> Path:
    """``folder`` once ``fill(folder)`` has completed in it (an interrupted fill is redone)."""
    if not (folder / _DONE).exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        fill(folder)
        (folder / _DONE).touch()
    return folder


def wheelhouse(cache: Path, into: Path) -> None:
    """Fill ``into`` with every wheel the offline image build needs (links into ``cache``)."""
    tools = _filled(
        cache / f"image-tools-uv-{uv_version()}",
        lambda folder: _pip_download(
            "--only-binary=:all:", "-d", str(folder), f"uv=={uv_version()}", *BUILD_TOOLS
        ),
    )
    requirements = _export(_unpack_uv(tools))
    digest = hashlib.sha256(requirements.encode()).hexdigest()[:16]

    def locked(folder: Path) -> None:
        listed = folder / "requirements.txt"
        listed.write_text(requirements)
        _pip_download("--no-deps", "--require-hashes", "-r", str(listed), "-d", str(folder))
        listed.unlink()

    wheels = _filled(cache / f"image-wheels-{digest}", locked)
    into.mkdir(parents=True, exist_ok=True)
    for folder in (tools, wheels):
        for wheel in folder.glob("*.whl"):
            target = into / wheel.name
            if not target.exists():
                _link_or_copy(wheel, target)


def _export(uv: Path) -> str:
    export = ["export", "--frozen", "--no-dev", "--no-emit-project", "--quiet"]
    done = subprocess.run(
        [str(uv), *export], check=True, capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    return done.stdout


def _unpack_uv(tools: Path) -> Path:
    """The uv binary out of its wheel (``uv-<version>.data/scripts/uv``), kept beside it."""
    binary = tools / "uv"
    if not binary.exists():
        wheel = next(tools.glob(f"uv-{uv_version()}-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            member = next(n for n in archive.namelist() if n.endswith(".data/scripts/uv"))
            partial = tools / "uv.partial"
            partial.write_bytes(archive.read(member))
            partial.chmod(partial.stat().st_mode | stat.S_IXUSR)
            partial.replace(binary)
    return binary


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        target.hardlink_to(source)
    except OSError:
        shutil.copy2(source, target)
