"""Run every notebook as Colab would: Colab's Python and package versions, `google.colab`
importable, each notebook alone in an empty folder with the repository where its Colab cell
would clone it.

    python -m tools.colab_check                   # the runtime in tools/colab_runtime.toml
    python -m tools.colab_check --freeze URL_OR_PATH [--os-info URL_OR_PATH]   # another list
    python -m tools.colab_check --record --freeze F --os-info O --commit SHA --date YYYY-MM-DD

Colab publishes its runtime in googlecolab/backend-info: `pip-freeze.txt` (every package)
and `os-info.txt` (the Python release). The environment is built with uv under
_build/colab/ from Python X.Y of pyenv or the PATH (`--python` to choose one): Colab's
versions of the packages the notebooks use and of everything they pull in. Colab's own torch
is a CPU build from PyTorch's index; the same release from PyPI stands in for it (a CUDA
build, which runs on the CPU). torchinfo is left out, as on Colab: the Colab cell installs it.
A notebook passes when no cell shows an error or writes to stderr. `--record` rewrites
tools/colab_runtime.toml from a freeze: how to follow a newer runtime (see README).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import urllib.request
from pathlib import Path

from nbclient import NotebookClient

from tools import nbio
from tools.hygiene import expects_error
from tools.navigation import COLAB_LACKS, load_contents
from tools.platforms import uv

RUNTIME = nbio.REPO / "tools" / "colab_runtime.toml"
BUILD = nbio.REPO / "_build" / "colab"
# What the notebooks import, pip (the Colab cell runs it) and pytest (for the explorer's tests).
# Everything they need comes at Colab's version too (the freeze is a constraint file).
NEEDS = ("torch", "numpy", "matplotlib", "ipykernel", "ipython", "ipywidgets", "pip", "pytest")
# The explorer's controls, tested on Colab's ipywidgets (7 where JupyterLab has 8).
WIDGET_TESTS = "tests/test_explorer_widgets.py"
# Colab's jupyter_client 7 warns on Python 3.13 when imported (a date it parses at import);
# it is the client library's own, not the explorer's, and Colab's kernel shows it nowhere.
JUPYTER_CLIENT_WARNING = (
    "ignore:Parsing dates involving a day of month without a year:DeprecationWarning"
)
# Parts of Colab's list that belong to its GPU builds or to Colab's own machinery: PyPI's
# torch brings the CUDA libraries it was built with instead.
NOT_PINNED = re.compile(r"^(nvidia-|triton$|cuda-|google-colab$)")
LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:==\s*([^\s;#]+)|@\s*(\S+))")
# The handful of versions --record keeps: what the notebooks import, and what shapes how the
# kernel runs and shows their cells. With --freeze, every version in Colab's list applies.
RECORDED = (*NEEDS, "jupyter-client", "traitlets", "tornado", "pyzmq", "matplotlib-inline",
            "widgetsnbextension", "jupyterlab-widgets", "pillow", "setuptools", "pluggy",
            "iniconfig")  # fmt: skip
STAND_IN = '"""A stand-in for Colab\'s own module: the notebooks only ask whether it is there."""\n'


def read_text(where: str) -> str:
    if re.match(r"https?://", where):
        with urllib.request.urlopen(where, timeout=60) as response:  # noqa: S310 (a URL we are given)
            return response.read().decode()
    return Path(where).read_text(encoding="utf-8")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_freeze(text: str) -> dict[str, str]:
    """name -> version for every line of a pip freeze; `name @ URL` lines give the version in
    the wheel's file name, without a local tag such as +cpu."""
    pins = {}
    for line in text.splitlines():
        match = LINE.match(line.strip())
        if not match or NOT_PINNED.match(canonical(match.group(1))):
            continue
        name, version, url = match.groups()
        if url:
            wheel = re.search(r"/[^/-]+-([0-9][^-/]*)-[^/]*\.whl$", url.replace("%2B", "+"))
            if not wheel:
                continue
            version = wheel.group(1)
        pins[canonical(name)] = version.split("+")[0]
    return pins


def parse_python(text: str) -> str:
    match = re.search(r"^Python (3\.\d+)", text, re.M)
    if not match:
        raise ValueError("the os-info text names no Python 3 release ('Python 3.X.Y')")
    return match.group(1)


def recorded() -> tuple[str, dict[str, str], str]:
    data = tomllib.loads(RUNTIME.read_text(encoding="utf-8"))
    return (
        data["python"],
        data["pins"],
        f"{data['source']} at {data['commit'][:12]} ({data['date']})",
    )


def find_python(version: str) -> str:
    """An interpreter of that minor version: python3.X on the PATH, else pyenv's newest."""
    candidates = [shutil.which(f"python{version}")]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(pyenv.glob(f"{version}.*/bin/python{version}"), reverse=True)
    for candidate in filter(None, candidates):
        probe = subprocess.run([str(candidate), "-c", "import sys; print(sys.version[:5])"],
                               capture_output=True, text=True, check=False)  # fmt: skip
        if probe.returncode == 0 and probe.stdout.startswith(version):
            return str(candidate)
    raise FileNotFoundError(f"no Python {version} found (python{version} or pyenv); pass --python")


def build(python: str, pins: dict[str, str], version: str) -> Path:
    """The environment under _build/colab/, made again only when the runtime changed."""
    venv = BUILD / f"venv-{version}"
    stamp = venv / "colab-runtime.json"
    wanted = json.dumps({"python": python, "pins": pins}, sort_keys=True)
    if stamp.exists() and stamp.read_text() == wanted:
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        constraints = Path(tmp) / "colab.txt"
        constraints.write_text("".join(f"{n}=={v}\n" for n, v in sorted(pins.items())))
        subprocess.run(
            [uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
             "-c", str(constraints), *NEEDS],
            check=True,
        )  # fmt: skip
    site = next((venv / "lib").glob("python3.*/site-packages"))
    (site / "google" / "colab").mkdir(parents=True, exist_ok=True)
    (site / "google" / "colab" / "__init__.py").write_text(STAND_IN)
    stamp.write_text(wanted)
    return venv


def installed(venv: Path) -> dict[str, str]:
    listing = subprocess.run(
        [uv(), "pip", "list", "--format", "json", "--python", str(venv / "bin" / "python")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return {canonical(p["name"]): p["version"] for p in json.loads(listing.stdout)}


def run_notebook(path: Path, venv: Path, repository: Path, name: str) -> list[str]:
    """Problems of one notebook run alone, in an empty folder holding only the clone."""
    with tempfile.TemporaryDirectory() as tmp:
        content = Path(tmp) / "content"  # Colab's working directory
        content.mkdir()
        (content / name).symlink_to(repository, target_is_directory=True)
        spec = Path(tmp) / "kernels" / "colab"
        spec.mkdir(parents=True)
        python = str(venv / "bin" / "python")
        # Colab's kernel has imported google.colab before the first cell runs.
        argv = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                "--IPKernelApp.exec_lines=import google.colab"]  # fmt: skip
        path_var = f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
        kernel_env = {"PATH": path_var, "PIP_CONFIG_FILE": os.devnull}
        spec.joinpath("kernel.json").write_text(
            json.dumps(
                {"argv": argv, "display_name": "Colab", "language": "python", "env": kernel_env}
            )  # fmt: skip
        )
        os.environ["JUPYTER_PATH"] = tmp
        nb = nbio.read(path)
        client = NotebookClient(
            nb, timeout=900, kernel_name="colab", allow_errors=True, record_timing=False,
            resources={"metadata": {"path": str(content)}},
        )  # fmt: skip
        client.execute(stderr=subprocess.DEVNULL)  # the kernel's own log, not a cell's output
    problems = []
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error" and not expects_error(cell):
                problems.append(f"cell {i}: {output.ename}: {output.evalue}"[:300])
            elif output.output_type == "stream" and output.name == "stderr":
                problems.append(f"cell {i}: stderr: {output.text.strip()[:200]!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all, in contents order")
    parser.add_argument("--freeze", help="Colab's pip-freeze.txt, a path or URL")
    parser.add_argument("--os-info", help="Colab's os-info.txt, a path or URL (its Python)")
    parser.add_argument("--python", help="the interpreter to build the environment from")
    parser.add_argument("--record", action="store_true", help="rewrite colab_runtime.toml")
    parser.add_argument("--commit", help="with --record: backend-info's commit of the lists")
    parser.add_argument("--date", help="with --record: the date of that commit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of the tool itself")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except Exception as error:  # one line for a person; the traceback only on request
        if args.debug:
            raise
        print(f"tools.colab_check: {type(error).__name__}: {error}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    if args.record and not (args.freeze and args.os_info and args.commit and args.date):
        raise ValueError("--record needs --freeze, --os-info, --commit and --date")
    for path in args.notebooks:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such notebook")
    if args.freeze:
        freeze = parse_freeze(read_text(args.freeze))
        version = parse_python(read_text(args.os_info)) if args.os_info else recorded()[0]
        runtime = f"the list {args.freeze}"
    else:
        version, freeze, runtime = recorded()
    python = args.python or find_python(version)
    venv = build(python, freeze, version)
    have = installed(venv)
    if args.record:
        return record(version, {n: have[n] for n in RECORDED if freeze.get(n) == have.get(n)}, args)
    print(f"Colab's runtime: {runtime}; Python {version} ({python})")
    print("  " + ", ".join(f"{n} {have.get(n, 'missing')}" for n in NEEDS))
    contents = load_contents()
    name = contents["repository"].split("/")[1]
    for key in [k for k in os.environ if k.startswith("PIP_")]:  # this machine's pip settings
        del os.environ[key]
    paths = args.notebooks or [nbio.NOTEBOOKS / e["file"] for e in contents["notebooks"]]
    failed, stale = 0, sorted(set(COLAB_LACKS) & set(freeze))
    for package in stale:  # the Colab cell would replace Colab's own version of it
        print(f"Colab now has {package} {freeze[package]}: take it out of COLAB_LACKS in "
              "tools/navigation.py, then make nav")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        repository = copy_repository(Path(tmp) / name)
        for path in paths:
            # as on a fresh runtime: what Colab lacks comes only from the Colab cell
            lacks = sorted(set(COLAB_LACKS) - set(freeze))
            subprocess.run([uv(), "pip", "uninstall", "--quiet", "--python",
                            str(venv / "bin" / "python"), *lacks], check=True)  # fmt: skip
            problems = run_notebook(path, venv, repository, name)
            failed += bool(problems)
            print(f"{path.name}: {'ok' if not problems else 'FAILED'}", flush=True)
            for problem in problems:
                print(f"  {problem}")
        tests = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
             "-o", "addopts=", "-W", JUPYTER_CLIENT_WARNING, WIDGET_TESTS],
            cwd=repository, capture_output=True, text=True, check=False,
        )  # fmt: skip
        outcome = (tests.stdout.strip().splitlines() or ["no output"])[-1]
        print(f"{WIDGET_TESTS} on ipywidgets {have.get('ipywidgets')}: {outcome}")
        if tests.returncode:
            failed += 1
            print(tests.stdout[-3000:] + tests.stderr[-2000:])
    print(f"Colab check: {'passed' if not (failed or stale) else 'FAILED'}")
    return 1 if failed or stale else 0


def copy_repository(target: Path) -> Path:
    """What a clone of this commit would hold: the files git tracks, and new ones not ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=nbio.REPO, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = nbio.REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def record(version: str, pins: dict[str, str], args: argparse.Namespace) -> int:
    lines = [
        "# The Colab runtime tools/colab_check.py follows by default: the Python release, and the",
        "# versions in Colab's list of the packages that shape how the notebooks run there.",
        "# Written by `python -m tools.colab_check --record ...` (see README: the Colab check).",
        'source = "googlecolab/backend-info"',
        f'commit = "{args.commit}"',
        f'date = "{args.date}"',
        f'python = "{version}"',
        "",
        "[pins]",
        *(f'{name} = "{pins[name]}"' for name in sorted(pins)),
    ]
    with tempfile.NamedTemporaryFile("w", dir=RUNTIME.parent, delete=False, suffix=".tmp") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(f.name, RUNTIME)  # a failure leaves the old file whole
    print(f"{RUNTIME.name}: Python {version}, {len(pins)} pins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
