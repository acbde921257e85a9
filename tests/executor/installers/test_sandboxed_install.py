"""Installing requirements in the sandbox: a package from the index, the cache, a missing
package, and a local setup.py package built inside."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from botarena.executor.installers import SandboxedInstaller
from botarena.executor.prepare import PrepareError, build_environment

MakeFolder = Callable[[str, dict[str, str]], Path]
RunAtEnv = Callable[[Path, str], str]

pytestmark = pytest.mark.usefixtures("no_install_left")


def test_a_package_from_the_index(
    sandboxed_installer: SandboxedInstaller,
    make_folder: MakeFolder,
    run_at_env: RunAtEnv,
    tmp_path: Path,
) -> None:
    requirements = make_folder("a", {"requirements.txt": "six\n"}) / "requirements.txt"
    envs = tmp_path / "envs"
    lines: list[str] = []
    started = time.monotonic()
    env = build_environment(
        requirements, envs, installer=sandboxed_installer, on_output=lines.append
    )
    print(f"sandboxed install of six: {time.monotonic() - started:.2f} s")
    assert any("Successfully installed six" in line for line in lines), lines[-10:]
    assert [p.name for p in envs.iterdir()] == [env.name], "no staging folder may be left"
    # Compiled at build time: agents run with a read-only /env.
    assert list(env.glob("lib/python3*/site-packages/__pycache__/six.*.pyc"))
    assert "-m venv --without-pip /env" in (env / "pyvenv.cfg").read_text()
    output = run_at_env(env, "import six, sys; print(sys.prefix, six.__file__)")
    assert output.split()[0] == "/env"
    assert output.split()[1].startswith("/env/lib/python3")

    again: list[str] = []
    started = time.monotonic()
    reused = build_environment(
        requirements, envs, installer=sandboxed_installer, on_output=again.append
    )
    print(f"reusing the cached environment: {time.monotonic() - started:.4f} s")
    assert reused == env
    assert again == [f"reusing the environment {env.name[:12]} for requirements.txt"]


def test_a_missing_package_fails_and_leaves_nothing(
    sandboxed_installer: SandboxedInstaller, make_folder: MakeFolder, tmp_path: Path
) -> None:
    folder = make_folder("a", {"requirements.txt": "botarena-no-such-package-anywhere==0.0.1\n"})
    with pytest.raises(PrepareError) as caught:
        build_environment(
            folder / "requirements.txt", tmp_path / "envs", installer=sandboxed_installer
        )
    assert caught.value.reason == "dependencies_failed"
    assert "No matching distribution found for botarena-no-such-package" in str(caught.value)
    assert list((tmp_path / "envs").iterdir()) == []


SETUP_PY = """\
from setuptools import setup
setup(name="localpkg", version="0.1", py_modules=["localpkg"])
"""


def test_a_local_setup_py_package_is_built_inside(
    sandboxed_installer: SandboxedInstaller,
    make_folder: MakeFolder,
    run_at_env: RunAtEnv,
    tmp_path: Path,
) -> None:
    files = {
        "requirements.txt": "./pkg\n",
        "pkg/setup.py": SETUP_PY,
        "pkg/localpkg.py": "ANSWER = 42\n",
    }
    folder = make_folder("a", files)
    env = build_environment(
        folder / "requirements.txt", tmp_path / "envs", installer=sandboxed_installer
    )
    assert run_at_env(env, "import localpkg; print(localpkg.ANSWER)").strip() == "42"
    # The build wrote its egg-info and build/ folders into a copy: the folder is unchanged.
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) == sorted(
        ["requirements.txt", "pkg", "pkg/setup.py", "pkg/localpkg.py"]
    )
