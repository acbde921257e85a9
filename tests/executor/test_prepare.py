"""Preparing agent folders: what to run, and environments cached by their requirements."""

from __future__ import annotations

from pathlib import Path

import pytest

from botarena.executor.prepare import PrepareError, environment_key, prepare_agent


def _folder(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def test_a_plain_main_py_needs_no_environment(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "a", {"main.py": "def agent(o, c):\n    return 0\n"})
    prepared = prepare_agent(folder, tmp_path / "cache")
    assert prepared.env_dir is None and prepared.command is None and prepared.is_python
    assert prepared.code_dir == folder.resolve() and prepared.name == "a"
    empty = _folder(tmp_path / "b", {"main.py": "", "requirements.txt": "# nothing\n\n"})
    assert prepare_agent(empty, tmp_path / "cache").env_dir is None


def test_a_declared_command(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "x", {"botarena.toml": '[agent]\ncommand = ["./run", "--fast"]\n'})
    assert prepare_agent(folder, tmp_path / "cache").command == ("./run", "--fast")


@pytest.mark.parametrize(
    ("files", "reason", "text"),
    [
        ({}, "no_entry_point", "has neither main.py nor a command in botarena.toml"),
        ({"botarena.toml": "[agent\n"}, "invalid_manifest", "botarena.toml cannot be read"),
        ({"botarena.toml": "[agent]\ncommand = './run'\n"}, "invalid_manifest", "list of strings"),
        ({"botarena.toml": "[agent]\ncommand = []\n"}, "invalid_manifest", "list of strings"),
    ],
)
def test_unusable_folders(tmp_path: Path, files: dict[str, str], reason: str, text: str) -> None:
    folder = _folder(tmp_path / "bad", files)
    with pytest.raises(PrepareError) as caught:
        prepare_agent(folder, tmp_path / "cache")
    assert caught.value.reason == reason and text in str(caught.value)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(PrepareError, match="is not a folder"):
        prepare_agent(tmp_path / "nope", tmp_path / "cache")


def test_cache_key_ignores_comments_and_blank_lines(tmp_path: Path) -> None:
    one = _folder(tmp_path / "1", {"requirements.txt": "six==1.16.0\n"}) / "requirements.txt"
    two = _folder(tmp_path / "2", {"requirements.txt": "# pinned\n\nsix==1.16.0  # ok\n"})
    other = _folder(tmp_path / "3", {"requirements.txt": "six==1.15.0\n"}) / "requirements.txt"
    assert environment_key(one) == environment_key(two / "requirements.txt")
    assert environment_key(one) != environment_key(other)


def test_environment_is_built_once_and_reused(tmp_path: Path) -> None:
    files = {"main.py": "import six\ndef agent(o, c):\n    return 0\n", "requirements.txt": "six\n"}
    first_lines: list[str] = []
    first = prepare_agent(
        _folder(tmp_path / "a", files), tmp_path / "cache", on_output=first_lines.append
    )
    assert first.env_dir is not None
    assert list(first.env_dir.glob("lib/python*/site-packages/six.py"))
    assert any("six" in line for line in first_lines)
    second_lines: list[str] = []
    second = prepare_agent(
        _folder(tmp_path / "b", files), tmp_path / "cache", on_output=second_lines.append
    )
    assert second.env_dir == first.env_dir
    assert second_lines == [
        f"reusing the environment {first.env_dir.name[:12]} for requirements.txt"
    ]
    assert [p.name for p in (tmp_path / "cache" / "envs").iterdir()] == [first.env_dir.name]


def test_a_failing_install_leaves_nothing(tmp_path: Path) -> None:
    files = {"main.py": "", "requirements.txt": "botarena-no-such-package-anywhere==0.0.1\n"}
    with pytest.raises(PrepareError) as caught:
        prepare_agent(_folder(tmp_path / "a", files), tmp_path / "cache")
    assert caught.value.reason == "dependencies_failed"
    assert "installing requirements failed" in str(caught.value)
    assert list((tmp_path / "cache" / "envs").iterdir()) == []
