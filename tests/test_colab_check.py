"""The Colab check (tools/colab_check.py): how it reads Colab's lists and what it records.

The check itself (an environment of ~3 GB, every notebook run in it) is `make colab-check`,
which CI runs on its own; these tests cover what it reads and writes, without downloading.
"""

from __future__ import annotations

import tomllib

import pytest

from tools import colab_check, navigation

FREEZE = """\
# a comment
Jinja2==3.1.6
numpy==2.1.3
torch @ https://download.pytorch.org/whl/cpu/torch-2.11.0%2Bcpu-cp313-cp313-manylinux_2_28_x86_64.whl
google-colab @ file:///colabtools/dist/google_colab-1.0.0.tar.gz
jupyter_kernel_gateway @ git+https://github.com/googlecolab/kernel_gateway@b134e99
nvidia-nccl-cu13==2.31.2
triton==3.6.0
ipython==7.34.0
"""


def test_a_freeze_gives_every_pin_with_canonical_names_and_no_local_tag():
    assert colab_check.parse_freeze(FREEZE) == {
        "jinja2": "3.1.6",
        "numpy": "2.1.3",
        "torch": "2.11.0",
        "ipython": "7.34.0",
    }


def test_the_os_info_gives_the_python_release():
    text = "# generated\nUbuntu 22.04.5 LTS\nPython 3.13.15\nR version 4.6.1\n"
    assert colab_check.parse_python(text) == "3.13"
    with pytest.raises(ValueError, match="names no Python 3 release"):
        colab_check.parse_python("Ubuntu 22.04.5 LTS\n")


def test_the_recorded_runtime_is_colabs_python_313_one():
    version, pins, where = colab_check.recorded()
    assert version == "3.13" and where.startswith("googlecolab/backend-info at ")
    assert set(colab_check.NEEDS) <= set(pins)  # every package the notebooks use is pinned
    assert {k: pins[k] for k in ("torch", "numpy", "ipython", "ipykernel", "ipywidgets")} == {
        "torch": "2.11.0",
        "numpy": "2.1.3",
        "ipython": "7.34.0",
        "ipykernel": "6.17.1",
        "ipywidgets": "7.7.1",
    }
    # what the Colab cells install is what Colab lacks: never in its list
    assert not set(navigation.COLAB_LACKS) & set(pins)


def test_record_writes_the_runtime_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "colab_runtime.toml"
    target.write_text("old")
    monkeypatch.setattr(colab_check, "RUNTIME", target)
    args = colab_check.argparse.Namespace(commit="abc123", date="2026-12-01")
    assert colab_check.record("3.13", {"torch": "2.11.0", "numpy": "2.1.3"}, args) == 0
    data = tomllib.loads(target.read_text())
    assert data["pins"] == {"numpy": "2.1.3", "torch": "2.11.0"}
    assert (data["commit"], data["date"], data["python"]) == ("abc123", "2026-12-01", "3.13")
    assert [p.name for p in tmp_path.iterdir()] == ["colab_runtime.toml"]  # no temporary left


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--record", "--freeze", "f.txt"], "--record needs --freeze, --os-info, --commit and"),
        (["nowhere.ipynb"], "FileNotFoundError: nowhere.ipynb: no such notebook"),
    ],
)
def test_a_mistake_is_one_line_before_anything_is_built(argv, message, monkeypatch, capsys):
    monkeypatch.setattr(colab_check, "build", lambda *a: pytest.fail("built an environment"))
    assert colab_check.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_an_interpreter_that_is_not_there_is_named(monkeypatch):
    monkeypatch.setenv("PYENV_ROOT", "/nonexistent")
    with pytest.raises(FileNotFoundError, match=r"no Python 3\.99 found"):
        colab_check.find_python("3.99")
