"""Build the companion's static site into _build/site/ from the notebooks' stored outputs.

    python -m tools.site              # what `make site` runs
    python -m tools.site OUTDIR

Sphinx with MyST-NB and the book theme, configured in site/conf.py: nothing is executed and
nothing is fetched. A notebook that the hygiene rules refuse (tools/hygiene.py: an error
output, a warning, a figure without alt text ...) is not published: the build stops before
Sphinx starts. Warnings are errors, so a broken link or a missing figure stops the build.
Every build starts afresh (a few seconds): no page is left over from an earlier one. A
failure is told in at most three lines; --debug shows all of Sphinx's output.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tools import cli, hygiene, nbio

SITE = nbio.REPO / "_build" / "site"


def command(root: Path = nbio.REPO, out: Path | None = None) -> list[str]:
    """The sphinx-build command for the repository at `root`."""
    return [
        sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", "-E",
        "-c", str(root / "site"), "-d", str(root / "_build" / "doctrees"),
        str(root), str(out or root / "_build" / "site"),
    ]  # fmt: skip


def refused(root: Path = nbio.REPO) -> list[str]:
    """What the hygiene rules refuse in the notebooks under ``root``, one line each."""
    return [
        p for path in sorted((root / "notebooks").glob("*.ipynb")) for p in hygiene.problems(path)
    ]


def build(
    root: Path = nbio.REPO, out: Path | None = None, *, check: bool = True
) -> subprocess.CompletedProcess:
    """Check the notebooks (unless ``check`` is False), then run Sphinx; the result as a
    finished process (a refusal by the hygiene rules has exit status 1 and, on stderr, the
    problems, one per line)."""
    problems = refused(root) if check else []
    if problems:
        return subprocess.CompletedProcess(command(root, out), 1, "", "\n".join(problems) + "\n")
    build_dir = root / "_build"
    for folder in (build_dir / "doctrees", out or build_dir / "site"):
        if folder.is_relative_to(build_dir):  # only ever what this tool writes
            shutil.rmtree(folder, ignore_errors=True)
    return subprocess.run(command(root, out), capture_output=True, text=True)


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("out", nargs="?", type=Path, help="default: _build/site")
    args = parser.parse_args(argv)
    out = args.out.resolve() if args.out else SITE
    problems = refused()
    if problems:
        more = f" (and {len(problems) - 1} more: python -m tools.hygiene lists them)"
        raise cli.ToolError(f"not built: {problems[0]}{more if len(problems) > 1 else ''}")
    result = build(out=out, check=False)
    if result.returncode == 0:
        sys.stdout.write(result.stdout)
        print(f"site built in {out}: open it with python -m http.server -d {out}")
        return 0
    if args.debug:
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        return result.returncode
    lines = [line.strip() for line in (result.stderr or result.stdout).splitlines() if line.strip()]
    print(f"site: not built: Sphinx reported {len(lines)} line(s), the first:", file=sys.stderr)
    for line in lines[:2] or [f"sphinx-build exited with status {result.returncode}"]:
        print(f"  {line}", file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(cli.run(main))
