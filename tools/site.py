"""Build the companion's static site into _build/site/ from the notebooks' stored outputs.

    python -m tools.site              # what `make site` runs
    python -m tools.site OUTDIR

Sphinx with MyST-NB and the book theme, configured in site/conf.py: nothing is executed and
nothing is fetched. A notebook that the hygiene rules refuse (tools/hygiene.py: an error
output, a warning, a figure without alt text ...) is not published: the build stops before
Sphinx starts. Warnings are errors, so a broken link or a missing figure stops the build.
Every build starts afresh (a few seconds) in a new folder, which replaces the old site only
once the build succeeds: no page is left over from an earlier build, and a failed build
leaves the old site whole. The site also gets the whole companion as one zip
(tools/archive.py), which its pages offer for download. A failure is told in at most three
lines; --debug shows all of Sphinx's output.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tools import archive, cli, hygiene, nbio

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
    """Check the notebooks (unless ``check`` is False), write the archive, then run Sphinx;
    the result as a finished process (a refusal by the hygiene rules has exit status 1 and, on
    stderr, the problems, one per line; an archive that cannot be written, the cause)."""
    out = out or root / "_build" / "site"
    problems = refused(root) if check else []
    if problems:
        return subprocess.CompletedProcess(command(root, out), 1, "", "\n".join(problems) + "\n")
    shutil.rmtree(root / "_build" / "doctrees", ignore_errors=True)
    # Into a new folder beside the old site, which it replaces only once Sphinx succeeds:
    # a failed build leaves the old site whole.
    out.parent.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".new"))
    try:
        archive.build(root, new)  # first: the pages name its size
    except (OSError, ValueError) as error:
        shutil.rmtree(new, ignore_errors=True)
        return subprocess.CompletedProcess([], 1, "", f"the companion's archive: {error}\n")
    result = subprocess.run(command(root, new), capture_output=True, text=True)
    if result.returncode == 0:
        old = new.with_suffix(".old")
        if out.exists():
            out.rename(old)
        new.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(new, ignore_errors=True)
    return subprocess.CompletedProcess(
        command(root, out), result.returncode, result.stdout, result.stderr
    )


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
