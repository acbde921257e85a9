"""The wheels the botarena image is built from when no package index is reachable.

The image's build (the repository's ``Dockerfile``) runs offline in the tests: this machine
reaches the package index through its own pip configuration, which a build container does not
have. So the wheels are fetched here, on the host, with the host's pip: the exact files
``uv export --frozen --no-dev`` names (their hashes are checked again in the build), uv itself
and the project's build backend. uv comes from its own wheel, so the host needs no uv of its
own. The folder is kept under the run's download cache, by the lock's content, so a run with
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What the Dockerfile's build stage installs before the locked dependencies.
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


def wheelhouse(cache: Path) -> Path:
    """A folder of every wheel the offline image build needs, made once per lock file."""
    lock = (ROOT / "uv.lock").read_bytes()
    key = hashlib.sha256(lock + uv_version().encode()).hexdigest()[:16]
    folder = cache / f"image-wheels-{key}"
    if (folder / _DONE).exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    pip = [host_python(), "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "--only-binary=:all:", "-d", str(folder), f"uv=={uv_version()}", *BUILD_TOOLS],
        check=True,
        timeout=300,
    )
    uv = _unpack_uv(folder, cache)
    requirements = folder / "requirements.txt"
    export = ["export", "--frozen", "--no-dev", "--no-emit-project", "--quiet"]
    subprocess.run(
        [str(uv), *export, "-o", str(requirements)],
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    subprocess.run(
        [*pip, "--no-deps", "--require-hashes", "-r", str(requirements), "-d", str(folder)],
        check=True,
        timeout=600,
    )
    requirements.unlink()
    (folder / _DONE).touch()
    return folder


def _unpack_uv(folder: Path, cache: Path) -> Path:
    """The uv binary out of its wheel (``uv-<version>.data/scripts/uv``)."""
    wheel = next(folder.glob(f"uv-{uv_version()}-*.whl"))
    target = cache / f"uv-{uv_version()}"
    binary = target / "uv"
    if not binary.exists():
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as archive:
            member = next(n for n in archive.namelist() if n.endswith(".data/scripts/uv"))
            partial = target / "uv.partial"
            partial.write_bytes(archive.read(member))
            partial.chmod(partial.stat().st_mode | stat.S_IXUSR)
            partial.replace(binary)
    return binary
