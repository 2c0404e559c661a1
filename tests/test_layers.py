"""The two layers and the lock agree; Binder adds to its base image without conflict.

Resolution on other platforms and against the package index is `make platforms`
(tools/platforms.py); these tests need no network.
"""

from __future__ import annotations

import ast
import sys
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tools import layers, nbio

REPO = nbio.REPO
# The lock is resolved for Linux x86_64 and Python 3.11: its markers are read for that.
LOCK_ENVIRONMENT = {
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}
# Import name -> distribution name, where they differ.
DISTRIBUTION = {"bs4": "beautifulsoup4", "yaml": "pyyaml"}


def applies(req: Requirement, extra: str = "") -> bool:
    return req.marker is None or req.marker.evaluate({**LOCK_ENVIRONMENT, "extra": extra})


def test_every_direct_need_is_in_the_lock_within_its_range():
    pins = layers.lock_pins()
    for path in (layers.LEARNERS, layers.DEV):
        for req in layers.read(path).requirements:
            if not applies(req):
                continue
            name = canonicalize_name(req.name)
            assert name in pins, f"{path.name}: {req} is not in requirements-lock.txt: make lock"
            assert req.specifier.contains(pins[name], prereleases=True), (
                f"{path.name} asks for {req}, requirements-lock.txt pins {pins[name]}: make lock"
            )


def dependency_closure() -> set[str]:
    """Every distribution the layers' direct needs pull in, read from the installed metadata."""
    todo = [(r, "") for r in layers.read(layers.DEV).requirements if applies(r)]
    seen: set[str] = set()
    while todo:
        req, _ = todo.pop()
        name = canonicalize_name(req.name)
        extras = sorted(req.extras)
        key = f"{name}[{','.join(extras)}]"
        if key in seen:
            continue
        seen.add(key)
        for line in metadata.requires(name) or []:
            dep = Requirement(line)
            if any(applies(dep, extra) for extra in ["", *extras]) and (
                dep.marker is None or "extra" not in str(dep.marker) or extras
            ):
                todo.append((dep, ""))
    return {key.split("[")[0] for key in seen}


def test_the_lock_pins_exactly_what_the_layers_need():
    """Nothing pinned that no layer needs, nothing needed left unpinned (setuptools, which
    torch requires, included)."""
    pinned = set(layers.lock_pins())
    needed = dependency_closure()
    assert not pinned - needed, f"pinned but needed by no layer: {sorted(pinned - needed)}"
    assert not needed - pinned, f"needed but not pinned: {sorted(needed - pinned)}"
    assert "setuptools" in pinned and "sympy" in pinned  # torch's own requirements


def test_the_environment_is_the_lock():
    for name, version in layers.lock_pins().items():
        installed = Version(metadata.version(name)).public
        assert installed == Version(version).public, (
            f"{name}: {installed} installed, lock {version}"
        )


def test_the_lock_takes_torch_from_the_cpu_index_and_no_cuda_package():
    assert layers.read(layers.LOCK).index_options == layers.read(layers.LEARNERS).index_options
    pins = layers.lock_pins()
    cuda = [n for n in pins if n.startswith(("nvidia-", "cuda-", "triton"))]
    assert not cuda, f"requirements-lock.txt pins CUDA packages: {cuda}"
    assert pins["torch"] == "2.13.0"  # the release the stored outputs come from


def imported_modules(source: str) -> set[str]:
    from IPython.core.inputtransformer2 import TransformerManager

    names = set()  # notebook cells are IPython: a `!` line is a shell command
    for node in ast.walk(ast.parse(TransformerManager().transform_cell(source))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def third_party(sources: list[str]) -> set[str]:
    modules = set().union(*(imported_modules(s) for s in sources))
    local = {p.stem for p in REPO.glob("*.py")} | {
        p.parent.name for p in REPO.glob("*/__init__.py")
    }
    return {m for m in modules if m not in sys.stdlib_module_names and m not in local}


def missing_from(path, modules: set[str]) -> list[str]:
    needs = layers.direct_needs(layers.read(path))
    return sorted(m for m in modules if canonicalize_name(DISTRIBUTION.get(m, m)) not in needs)


def test_what_the_notebooks_import_is_in_the_learners_layer():
    sources = [p.read_text() for p in REPO.glob("*.py") if p.name != "conftest.py"]
    sources += [p.read_text() for p in REPO.glob("lenet_extras/**/*.py")]
    for path in nbio.NOTEBOOKS.glob("*.ipynb"):
        sources += [c.source for c in nbio.read(path).cells if c.cell_type == "code"]
    missing = missing_from(layers.LEARNERS, third_party(sources))
    assert not missing, f"the notebooks import, requirements.txt lacks: {missing}"


def test_what_the_tests_and_tools_import_is_in_a_layer():
    sources = [
        p.read_text()
        for d in ("tests", "tools", "benchmarks", "site")
        for p in REPO.glob(f"{d}/*.py")
    ] + [(REPO / "conftest.py").read_text()]
    # modules imported from their own folder: site/companion.py (by Sphinx), tests/chromium.py
    local = {p.stem for d in ("tests", "site") for p in REPO.glob(f"{d}/*.py")}
    missing = missing_from(layers.DEV, third_party(sources) - {"packaging"} - local)
    assert not missing, f"imported, but in no layer: {missing}"


# --- Binder ------------------------------------------------------------------------------


def base_image() -> dict[str, str]:
    """repo2docker's base environment for Python 3.11: name -> version."""
    from tools.platforms import base_image_constraints

    return dict(line.split("==") for line in base_image_constraints().splitlines())


def test_binder_adds_the_locked_versions_with_the_cpu_torch():
    binder = layers.read(REPO / "binder" / "requirements.txt")
    assert binder.index_options == layers.read(layers.LEARNERS).index_options
    pins = layers.lock_pins()
    for req in binder.requirements:
        (spec,) = req.specifier
        assert spec.operator == "==", f"binder/requirements.txt: pin {req} exactly"
        expected = pins[canonicalize_name(req.name)] + ("+cpu" if req.name == "torch" else "")
        assert spec.version == expected, f"binder/requirements.txt: {req}, the lock has {expected}"


def test_binder_pins_nothing_of_the_base_image_and_the_base_image_suits_the_notebooks():
    base = base_image()
    binder = {
        canonicalize_name(r.name)
        for r in layers.read(REPO / "binder" / "requirements.txt").requirements
    }
    assert not binder & set(base), (
        f"binder/requirements.txt re-pins the base image's {binder & set(base)}"
    )
    for name, reqs in layers.direct_needs(layers.read(layers.LEARNERS)).items():
        if name in binder:
            continue
        assert name in base, f"Binder gets no {name}: pin it in binder/requirements.txt"
        assert any(r.specifier.contains(base[name]) for r in reqs if applies(r)), (
            f"Binder's base image has {name} {base[name]}, requirements.txt asks for {reqs}"
        )


def test_binder_runs_python_311_and_installs_both_packages_of_the_repository():
    assert (REPO / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    post_build = (REPO / "binder" / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post_build
    from tools.platforms import base_image_python

    assert base_image_python().startswith("3.11.")
