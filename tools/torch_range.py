"""Run every notebook under the newest and the oldest PyTorch requirements.txt admits, and
compare the outputs with the stored ones: to run before raising the range's upper bound.

    python -m tools.torch_range                          (or: make torch-range)
    python -m tools.torch_range --ends oldest notebooks/03_feed_forward.ipynb

For each end of the range, an environment under _build/torch-range/ is built with uv from
requirements.txt: "newest" takes the newest release of everything it admits, "oldest" the
oldest of each package it names (uv's --resolution lowest-direct: torch 2.2, NumPy 1.26,
Matplotlib 3.8, ...). Both use Python 3.11 (torch 2.2 has no wheels for 3.13) unless
--python says otherwise, and PyPI only, unless --with-index: on Linux that means PyTorch's
CUDA builds, several GB each, downloaded once into uv's cache. Then strict nbval runs every
notebook in a kernel of that environment, with tests/sanitize.cfg, a rule for the version
lines of notebook 01, and the known wording changes of tools/torch_range_known.toml that
apply to the torch under test. A difference that is neither fails its cell, named by nbval.
Not part of `make test`: it downloads too much.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tools import layers, nbio
from tools.colab_check import find_python
from tools.platforms import uv

BUILD = nbio.REPO / "_build" / "torch-range"
KNOWN = nbio.REPO / "tools" / "torch_range_known.toml"
ENDS = {"newest": [], "oldest": ["--resolution", "lowest-direct"]}
# Notebook 01 prints the versions it runs with; they differ at either end by design. (nbval
# applies each regex to a cell's whole output: (?m) lets ^ match at every line.)
VERSION_LINES = """
[torch_range_versions]
regex: (?m)^(Python|PyTorch|NumPy|Matplotlib)( +)\\d+\\.\\d+\\S*
replace: \\1\\2(version)
"""


def known_differences(torch_version: str) -> list[dict[str, str]]:
    """The entries of torch_range_known.toml whose `torch` specifier admits this release."""
    entries = tomllib.loads(KNOWN.read_text(encoding="utf-8"))["difference"]
    for entry in entries:
        missing = {"what", "torch", "regex", "replace"} - entry.keys()
        if missing:
            raise ValueError(f"{KNOWN.name}: an entry lacks {sorted(missing)}: {entry}")
    release = Version(Version(torch_version).base_version)  # 2.15.0+cpu -> 2.15.0
    return [e for e in entries if release in SpecifierSet(e["torch"])]


def sanitize_rules(torch_version: str) -> str:
    """tests/sanitize.cfg, the version lines, and the known differences for this release."""
    rules = [(nbio.REPO / "tests" / "sanitize.cfg").read_text(encoding="utf-8"), VERSION_LINES]
    for i, entry in enumerate(known_differences(torch_version)):
        rules.append(f"\n[torch_range_known_{i}]\nregex: {entry['regex']}\n"
                     f"replace: {entry['replace']}\n")  # fmt: skip
    return "".join(rules)


def requirements(with_index: bool) -> str:
    """requirements.txt as uv should read it: the helper package by its absolute path."""
    text = (
        layers.LEARNERS.read_text(encoding="utf-8")
        if with_index
        else layers.without_index_options(layers.LEARNERS)
    )
    return "\n".join(
        f"-e {nbio.REPO}" if line.strip() == "-e ." else line for line in text.splitlines()
    )


def build(end: str, python: str, with_index: bool) -> tuple[Path, str]:
    """The environment of one end (made again only when its inputs changed) and its torch."""
    venv = BUILD / end
    wanted = requirements(with_index)
    stamp = json.dumps({"python": python, "options": ENDS[end], "requirements": wanted})
    digest = hashlib.sha256(stamp.encode()).hexdigest()
    if (venv / "stamp").exists() and (venv / "stamp").read_text() == digest:
        return venv, installed_torch(venv)
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "requirements.txt"
        file.write_text(wanted)
        subprocess.run(
            [uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
             *ENDS[end], "-r", str(file)],
            check=True, cwd=nbio.REPO,
        )  # fmt: skip
    (venv / "stamp").write_text(digest)
    return venv, installed_torch(venv)


def installed_torch(venv: Path) -> str:
    probe = [str(venv / "bin" / "python"), "-c", "import torch; print(torch.__version__)"]
    return subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()


def run_nbval(end: str, venv: Path, torch_version: str, notebooks: list[Path]) -> int:
    """Strict nbval in a kernel of the environment; returns pytest's exit status."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "kernels" / f"torch-range-{end}"
        spec.mkdir(parents=True)
        argv = [str(venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f",
                "{connection_file}", "--IPKernelApp.log_level=ERROR"]  # fmt: skip
        spec.joinpath("kernel.json").write_text(
            json.dumps({"argv": argv, "display_name": spec.name, "language": "python"})
        )
        rules = Path(tmp) / "sanitize.cfg"
        rules.write_text(sanitize_rules(torch_version))
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                   "-o", "addopts=", "--nbval", "--nbval-kernel-name", spec.name,
                   "--nbval-sanitize-with", str(rules), *map(str, notebooks)]  # fmt: skip
        env = os.environ | {"JUPYTER_PATH": tmp}
        return subprocess.run(command, cwd=nbio.REPO, env=env, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all in notebooks/")
    parser.add_argument("--ends", nargs="+", choices=list(ENDS), default=list(ENDS))
    parser.add_argument("--python", help="the interpreter for both (default: Python 3.11)")
    parser.add_argument("--with-index", action="store_true",
                        help="use requirements.txt's extra index too (the CPU builds)")  # fmt: skip
    parser.add_argument("--debug", action="store_true", help="show tracebacks of the tool itself")
    args = parser.parse_args(argv)
    try:
        notebooks = args.notebooks or sorted(nbio.NOTEBOOKS.glob("*.ipynb"))
        for path in notebooks:
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no such notebook")
        python = args.python or find_python("3.11")
        results = {}
        for end in args.ends:
            venv, torch_version = build(end, python, args.with_index)
            known = known_differences(torch_version)
            print(f"\n== {end} end of the range: torch {torch_version}; known differences: "
                  f"{', '.join(e['what'] for e in known) or 'none'}", flush=True)  # fmt: skip
            results[end] = (torch_version, run_nbval(end, venv, torch_version, notebooks))
    except Exception as error:  # one line for a person; the traceback only on request
        if args.debug:
            raise
        print(f"tools.torch_range: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    print()
    for end, (version, status) in results.items():
        verdict = "outputs as stored" if status == 0 else "DIFFERENCES (see above)"
        print(f"{end:<7} torch {version:<12} {verdict}")
    return 1 if any(status for _, status in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
