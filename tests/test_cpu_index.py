"""On Linux, the README's install takes torch's CPU build and no CUDA package.

The PyTorch CPU index is not reachable from CI, so two stand-in indexes are served on
127.0.0.1: "PyPI", whose torch (like the real one on Linux) needs an nvidia package, and the
CPU index, whose torch is the same release tagged "+cpu" and needs nothing. pip is then run,
isolated from this machine's configuration, with requirements.txt's own index options and
torch requirement, the CPU index's address swapped for the stand-in's.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import json
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from tools import layers

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
RELEASES = ("2.13.0", "2.15.0")


def build_wheel(folder: Path, name: str, version: str, requires: list[str]) -> None:
    """A minimal wheel: metadata and an empty package, enough for pip to resolve it."""
    folder.mkdir(parents=True, exist_ok=True)
    dist_info = f"{name.replace('-', '_')}-{version}.dist-info"
    files = {
        f"{name.replace('-', '_')}/__init__.py": "",
        f"{dist_info}/METADATA": "\n".join(
            ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
            + [f"Requires-Dist: {r}" for r in requires]
        )
        + "\n",
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    files[f"{dist_info}/RECORD"] = "\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n"
    wheel = folder / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    """(PyPI stand-in URL, CPU index stand-in URL), served from one local HTTP server."""
    root = tmp_path_factory.mktemp("indexes")
    for version in RELEASES:
        build_wheel(root / "pypi" / "torch", "torch", version, ["nvidia-cublas-cu13"])
        build_wheel(root / "cpu" / "torch", "torch", f"{version}+cpu", [])
    build_wheel(root / "pypi" / "nvidia-cublas-cu13", "nvidia-cublas-cu13", "13.1.1", [])

    class Quiet(http.server.SimpleHTTPRequestHandler):  # its directory listing is the index
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield f"{base}/pypi/", f"{base}/cpu/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def readme_linux_install() -> str:
    """The line of requirements.txt's torch, and its index options, as the README installs them."""
    learners = layers.read(layers.LEARNERS)
    (torch,) = [r for r in learners.requirements if r.name == "torch"]
    return "\n".join([*learners.index_options, str(torch)]) + "\n"


def resolve(requirements: str, pypi: str, tmp_path: Path) -> dict[str, str]:
    """name -> version pip would install: isolated from this machine's pip configuration and
    installed packages, with the stand-in for PyPI as the main index."""
    file = tmp_path / "requirements.txt"
    file.write_text(requirements)
    report = tmp_path / "report.json"
    subprocess.run(
        [sys.executable, "-m", "pip", "--isolated", "install", "--dry-run", "--ignore-installed",
         "--no-cache-dir", "--quiet", "--retries", "0", "--index-url", pypi,
         "--report", str(report), "-r", str(file)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    chosen = json.loads(report.read_text())["install"]
    return {item["metadata"]["name"]: item["metadata"]["version"] for item in chosen}


def test_the_readme_install_uses_requirements_txt_alone():
    readme = (layers.REPO / "README.md").read_text()
    assert "python -m pip install -r requirements.txt" in readme
    assert f"--extra-index-url {CPU_INDEX}" in layers.read(layers.LEARNERS).index_options


def test_with_the_cpu_index_pip_takes_the_cpu_build_and_no_cuda(indexes, tmp_path):
    pypi, cpu = indexes
    requirements = readme_linux_install().replace(CPU_INDEX, cpu.rstrip("/"))
    assert cpu.rstrip("/") in requirements, "requirements.txt no longer names the CPU index"
    chosen = resolve(requirements, pypi, tmp_path)
    assert chosen["torch"].endswith("+cpu"), chosen
    assert not [name for name in chosen if name.startswith("nvidia")], chosen


def test_without_the_cpu_index_pip_would_take_the_cuda_build(indexes, tmp_path):
    pypi, _cpu = indexes
    requirements = "\n".join(
        line for line in readme_linux_install().splitlines() if not line.startswith("--")
    )
    chosen = resolve(requirements, pypi, tmp_path)
    assert "+" not in chosen["torch"] and "nvidia-cublas-cu13" in chosen, chosen
