"""Check, by resolution against the package index (nothing is downloaded but metadata), that
learners can install the notebooks' stack on the machines they have (`make platforms`).

    python -m tools.platforms

Three checks, each row one `uv pip compile` for a platform and a Python version:
  * the learners' layer (requirements.txt) on every platform and Python of README's table;
  * the lock (requirements-lock.txt) wherever its torch release has wheels;
  * Binder: binder/requirements.txt on top of repo2docker's base image, whose packages must
    stay as they are (they are passed as constraints), so the image has no conflict.
A row that cannot resolve fails with one line naming the platform and the package. The
platforms no torch release supports are expected failures, listed in EXPECTED and in the
README, and are checked to still fail for that reason (so the README is corrected when a
torch release adds them).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from tools import cli, layers, lock

PYTHONS = ("3.11.0", "3.12", "3.13")
BASE_LOCK = "repo2docker/buildpacks/conda/environment.py-3.11-linux-64.lock"


@dataclass(frozen=True)
class Platform:
    name: str
    uv: str  # uv's --python-platform
    macos: str | None = None  # MACOSX_DEPLOYMENT_TARGET: the oldest macOS to resolve for


PLATFORMS = [
    Platform("Linux x86_64", "x86_64-manylinux_2_28"),
    Platform("Linux aarch64", "aarch64-manylinux_2_28"),
    Platform("macOS 11 arm64", "aarch64-apple-darwin", "11.0"),
    Platform("macOS 14 arm64", "aarch64-apple-darwin", "14.0"),
    Platform("macOS x86_64", "x86_64-apple-darwin", "11.0"),
    Platform("Windows amd64", "x86_64-pc-windows-msvc"),
]
# Where the lock's torch release has wheels.
LOCK_PLATFORMS = ["Linux x86_64", "Linux aarch64", "macOS 14 arm64", "Windows amd64"]
# What learners must not get from requirements.txt (`make lab`, the README's pip command).
DEV_ONLY = {"pytest", "nbval", "ruff", "playwright", "pre-commit", "sphinx", "uv"}
DEV_ONLY |= {"nbgrader", "jupyterhub", "nbgitpuller", "otter-grader"}  # instructors' tools
# (platform, python) -> the package that has no release for it. The README says so.
EXPECTED = {("macOS x86_64", "3.13"): "torch"}


def uv() -> str:
    return shutil.which("uv", path=str(Path(sys.executable).parent)) or "uv"


def resolve(
    requirements: str,
    platform: Platform,
    python: str,
    extra: list[str] = (),
) -> tuple[dict[str, str] | None, str]:
    """(name -> version, "") when it resolves, else (None, the reason in one line)."""
    env = dict(os.environ)
    if platform.macos:
        env["MACOSX_DEPLOYMENT_TARGET"] = platform.macos
    result = subprocess.run(
        [uv(), "pip", "compile", "-", "--quiet", "--no-header", "--no-annotate",
         "--python-platform", platform.uv, "--python-version", python, *extra],
        input=requirements, cwd=layers.REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode == 0:
        return dict(re.findall(r"^([\w.-]+)==(\S+)", result.stdout, flags=re.M)), ""
    return None, reason(result.stderr)


def reason(stderr: str) -> str:
    """uv's explanation, shortened to the line that names the package at fault."""
    lines = [
        re.sub(r"^[\s╰─▶×]*(?:error:|cause:)?\s*", "", line).strip() for line in stderr.splitlines()
    ]
    lines = [line for line in lines if line and not line.startswith(("hint", "No solution"))]
    because = [line for line in lines if line.startswith(("Because", "And because"))]
    return (because or lines or ["uv failed without a message"])[0]


def base_image_lock() -> str:
    """The conda lock of repo2docker's base image for Python 3.11, from the locked release of
    jupyter-repo2docker (read as a file: importing repo2docker warns)."""
    dist = metadata.distribution("jupyter-repo2docker")
    return Path(dist.locate_file(BASE_LOCK)).read_text(encoding="utf-8")


def base_image_constraints() -> str:
    """repo2docker's base environment for Python 3.11 (conda packages), as pip pins."""
    text = base_image_lock()
    pins = []
    for url in re.findall(r"^https://\S+/([^/#\s]+)\.(?:conda|tar\.bz2)", text, flags=re.M):
        name, version, _build = url.rsplit("-", 2)
        name = {"python-fastjsonschema": "fastjsonschema"}.get(name, name)
        try:
            Version(version)
        except InvalidVersion:
            continue
        if name != "python" and re.match(r"[A-Za-z0-9]", name):
            pins.append(f"{canonicalize_name(name)}=={version}")
    return "\n".join(pins)


def base_image_python() -> str:
    return re.search(r"/python-(3\.11\.\d+)-", base_image_lock()).group(1)


def main(argv: list[str] | None = None) -> int:
    cli.parser(__doc__).parse_args(argv)
    start = time.perf_counter()
    by_name = {p.name: p for p in PLATFORMS}
    learners = layers.without_index_options(layers.LEARNERS)
    lock_text = layers.without_index_options(layers.LOCK)
    failures, rows = [], []
    jobs = [("learners", learners, p, v) for p in PLATFORMS for v in PYTHONS]
    jobs += [("lock", lock_text, by_name[n], v) for n in LOCK_PLATFORMS for v in PYTHONS]
    # Each resolution mostly waits on the index: run them side by side.
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda job: resolve(job[1], job[2], job[3]), jobs))
    for (layer, _text, platform, python), (found, why) in zip(jobs, results, strict=True):
        where = f"{platform.name}, Python {python}"
        file = layers.LEARNERS.name if layer == "learners" else layers.LOCK.name
        expected = EXPECTED.get((platform.name, python)) if layer == "learners" else None
        tools = sorted(DEV_ONLY & set(found or {})) if layer == "learners" else []
        if tools:
            failures.append(f"{where}: requirements.txt gives learners {', '.join(tools)}")
        elif found is not None and expected is None:
            rows.append((where, layer, f"torch {found['torch']}"))
        elif found is None and expected and expected in why:
            rows.append((where, layer, f"no {expected}: expected, README says so"))
        elif found is None:
            failures.append(f"{where}: {file} does not resolve: {why}")
        else:
            failures.append(
                f"{where}: now resolves (torch {found['torch']}), but EXPECTED and the"
                " README say it cannot: update both"
            )
    binder_path = layers.REPO / "binder" / "requirements.txt"
    binder = layers.without_index_options(binder_path)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base-image.txt"
        base.write_text(base_image_constraints())
        python = base_image_python()
        extra = ["--constraint", str(base)]
        extra += lock.torch_sources(layers.read(binder_path).index_options)
        found, why = resolve(binder, by_name["Linux x86_64"], python, extra)
    where = f"Binder (repo2docker base image, Python {python})"
    if found is None:
        failures.append(f"{where}: binder/requirements.txt conflicts: {why}")
    else:
        rows.append((where, "binder", f"torch {found['torch']}"))
    width = max(len(r[0]) for r in rows) if rows else 0
    for where, layer, result in rows:
        print(f"{where:<{width}}  {layer:<8}  {result}")
    for failure in failures:
        print(failure, file=sys.stderr)
    print(
        f"{len(rows)} rows resolved as expected, {len(failures)} failed"
        f" ({time.perf_counter() - start:.0f} s)"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
