"""The torch-range command's comparison rules (tools/torch_range.py), applied as nbval does.

The command itself downloads several GB (README: both ends of the PyTorch range); these tests
cover the rules it compares outputs with, and the requirements it installs from.
"""

from __future__ import annotations

import re

import pytest
from nbval.plugin import get_sanitize_patterns

from tools import nbio, torch_range


def sanitized(text: str, torch_version: str) -> str:
    for regex, replace in get_sanitize_patterns(torch_range.sanitize_rules(torch_version)):
        text = re.sub(regex, replace, text)
    return text


def stored_output(notebook: str, marker: str) -> str:
    for cell in nbio.read(nbio.NOTEBOOKS / notebook).cells:
        for output in cell.get("outputs", []):
            if output.get("name") == "stdout" and marker in output.text:
                return output.text
    raise LookupError(marker)


def test_the_version_lines_of_notebook_01_compare_equal_at_either_end():
    stored = stored_output("01_imports.ipynb", "PyTorch")
    other = re.sub(r"(PyTorch +)\S+", r"\g<1>2.15.0+cu132", stored)
    other = re.sub(r"(NumPy +)\S+", r"\g<1>1.26.0", other)
    assert other != stored
    assert sanitized(other, "2.15.0+cu132") == sanitized(stored, "2.15.0+cu132")
    assert "GPU (CUDA) available" in sanitized(stored, "2.2.0")  # only the version lines go


def test_the_known_rewording_applies_from_its_release_on_only():
    stored = "RuntimeError: mat1 and mat2 shapes cannot be multiplied (25x256 and 400x120)\n"
    newer = stored.replace("RuntimeError: ", "RuntimeError: addmm: ")
    assert sanitized(newer, "2.15.0") == sanitized(stored, "2.15.0")
    assert sanitized(newer, "2.13.0") != sanitized(stored, "2.13.0")
    assert [e["torch"] for e in torch_range.known_differences("2.15.0+cu132")] == [">=2.15"]
    assert torch_range.known_differences("2.2.0") == []


def test_every_known_difference_is_complete(tmp_path, monkeypatch):
    broken = tmp_path / "known.toml"
    broken.write_text('[[difference]]\nwhat = "x"\ntorch = ">=2"\nregex = "y"\n')
    monkeypatch.setattr(torch_range, "KNOWN", broken)
    with pytest.raises(ValueError, match=r"an entry lacks \['replace'\]"):
        torch_range.known_differences("2.13.0")


def test_the_environments_install_requirements_txt_with_the_helpers_by_absolute_path():
    lines = torch_range.requirements(with_index=False).splitlines()
    assert f"-e {nbio.REPO}" in lines and "-e ." not in lines
    assert not any(line.startswith("--extra-index-url") for line in lines)  # PyPI only
    assert any(line.startswith("torch>=") for line in lines)
    assert any(
        line.startswith("--extra-index-url")
        for line in torch_range.requirements(with_index=True).splitlines()
    )


def test_a_missing_notebook_is_one_line(capsys):
    assert torch_range.main(["nowhere.ipynb"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["tools.torch_range: FileNotFoundError: nowhere.ipynb: no such notebook"]
