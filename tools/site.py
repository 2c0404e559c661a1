"""Build the companion's static site into _build/site/ from the notebooks' stored outputs.

    python -m tools.site              # what `make site` runs
    python -m tools.site OUTDIR

Sphinx with MyST-NB and the book theme, configured in site/conf.py: nothing is executed and
nothing is fetched. Warnings are errors, so a broken link or a missing figure stops the build.
Every build starts afresh (a few seconds): no page is left over from an earlier one. The site
also gets the whole companion as one zip (tools/archive.py), which its pages offer for download.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tools import archive, nbio

SITE = nbio.REPO / "_build" / "site"


def command(root: Path = nbio.REPO, out: Path | None = None) -> list[str]:
    """The sphinx-build command for the repository at `root`."""
    return [
        sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", "-E",
        "-c", str(root / "site"), "-d", str(root / "_build" / "doctrees"),
        str(root), str(out or root / "_build" / "site"),
    ]  # fmt: skip


def build(root: Path = nbio.REPO, out: Path | None = None) -> subprocess.CompletedProcess:
    """Build the site into `out` (default _build/site/), the archive first: the pages name
    its size. An archive that cannot be written fails the build with the cause in stderr."""
    build_dir = root / "_build"
    out = out or build_dir / "site"
    for folder in (build_dir / "doctrees", out):
        if folder.is_relative_to(build_dir):  # only ever what this tool writes
            shutil.rmtree(folder, ignore_errors=True)
    try:
        archive.build(root, out)
    except (OSError, ValueError) as error:
        return subprocess.CompletedProcess([], 1, "", f"the companion's archive: {error}\n")
    return subprocess.run(command(root, out), capture_output=True, text=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]).resolve() if args else SITE
    result = build(out=out)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    if result.returncode == 0:
        print(f"site built in {out}: open it with python -m http.server -d {out}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
