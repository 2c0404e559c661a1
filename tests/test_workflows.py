"""The GitHub workflows (.github/workflows/): valid against GitHub's schema, clean under zizmor,
safe by our own rules, and doing what the README says: CI runs .ci/run, the canary checks
the notebooks and reports the broken cell, Pages publishes `make site`. All offline.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tools import canary, colab_check, lock, nbio

REPO = nbio.REPO
WORKFLOWS = REPO / ".github" / "workflows"
BIN = Path(sys.executable).parent
NAMES = sorted(p.name for p in WORKFLOWS.glob("*.yml"))


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads `on:` as True
    return workflow


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN))
    assert found, f"{name} is not installed (requirements-dev.txt)"
    return found


def test_the_three_workflows_are_there():
    assert {"ci.yml", "canary.yml", "pages.yml"} <= set(NAMES)
    assert not list(WORKFLOWS.glob("*.yaml")), "name workflows *.yml, so that these tests see them"


# --- the two offline checks ------------------------------------------------------------


def schema_check(*paths: Path) -> subprocess.CompletedProcess:
    command = [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows"]
    return subprocess.run([*command, *map(str, paths)], capture_output=True, text=True)


def zizmor(folder: Path) -> list[dict]:
    """zizmor's findings of medium severity or above, offline (no GitHub token, no network)."""
    command = [tool("zizmor"), "--offline", "--no-config", "--min-severity", "medium"]
    result = subprocess.run(
        [*command, "--format", "json", str(folder)], capture_output=True, text=True
    )
    assert result.stdout.strip(), result.stderr  # exit status 14 means findings, not a crash
    return json.loads(result.stdout)


def test_workflows_match_githubs_schema_which_catches_a_broken_one(tmp_path):
    text = (WORKFLOWS / "ci.yml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.yml"
    broken.write_text(text.replace("runs-on:", "runs_on:"), encoding="utf-8")
    result = schema_check(*(WORKFLOWS / name for name in NAMES), broken)  # one start-up
    errors = [line for line in result.stdout.splitlines() if "::$" in line]
    assert errors and all(line.strip().startswith(str(broken)) for line in errors), result.stdout
    assert "'runs-on' is a required property" in result.stdout


def test_zizmor_finds_nothing_of_medium_severity_or_above():
    findings = zizmor(WORKFLOWS)
    assert findings == [], [(f["ident"], f["desc"]) for f in findings]


def test_zizmor_catches_untrusted_input_in_a_run_line_and_an_unpinned_action(tmp_path):
    text = (WORKFLOWS / "ci.yml").read_text(encoding="utf-8")
    text = text.replace("run: bash .ci/run", 'run: echo "${{ github.event.head_commit.message }}"')
    text = re.sub(r"actions/checkout@[0-9a-f]{40}", "actions/checkout@v7", text)
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "ci.yml").write_text(text, encoding="utf-8")
    assert {f["ident"] for f in zizmor(folder)} >= {"template-injection", "unpinned-uses"}


# --- our own rules, stricter than zizmor's defaults -------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_action_is_pinned_to_a_full_commit_with_its_version_beside_it(name):
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    uses = re.findall(r"^\s*(?:- )?uses: (.*)$", text, flags=re.M)
    assert uses
    for line in uses:
        assert re.fullmatch(r"actions/[\w-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", line), line


@pytest.mark.parametrize("name", NAMES)
def test_permissions_are_none_by_default_and_granted_per_job(name):
    workflow = load(name)
    assert workflow["permissions"] == {}
    writes = {}
    for job_name, job in workflow["jobs"].items():
        assert "permissions" in job, f"{name}: job {job_name} states no permissions"
        writes[job_name] = {k for k, v in job["permissions"].items() if v == "write"}
    expected = {
        "ci.yml": {"test": set()},
        "canary.yml": {"newest-torch": set(), "colab": set(), "report": {"issues"}},
        "pages.yml": {"build": set(), "deploy": {"pages", "id-token"}},
    }.get(name, dict.fromkeys(writes, set()))  # a new workflow writes nothing unless listed
    assert writes == expected


@pytest.mark.parametrize("name", NAMES)
def test_no_expression_in_a_run_line_and_no_kept_credentials(name):
    for step in steps(load(name)):
        # values reach a script through env:, never pasted into its text
        assert "${{" not in step.get("run", ""), step["run"]
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def makefile_targets() -> set[str]:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([\w-]+):", text, flags=re.M))


def workflow_targets() -> list[str]:
    runs = " ".join(step.get("run", "") for name in NAMES for step in steps(load(name)))
    return sorted(set(re.findall(r"\bmake ([\w-]+)", runs)))


@pytest.mark.parametrize("target", workflow_targets())
def test_every_make_target_a_workflow_calls_exists(target):
    assert target in makefile_targets()


# --- what each workflow does ------------------------------------------------------------


def test_ci_runs_ci_run_on_every_push_and_pull_request_on_the_locks_and_colabs_python():
    workflow = load("ci.yml")
    assert {"push", "pull_request"} <= set(workflow["on"])
    all_steps = steps(workflow)
    assert [s["run"] for s in all_steps if "run" in s] == ["bash .ci/run"]
    python = next(s for s in all_steps if s.get("uses", "").startswith("actions/setup-python@"))
    versions = python["with"]["python-version"].split()
    assert versions[-1] == lock.PYTHON, "the last version listed is the default python"
    colab = tomllib.loads(colab_check.RUNTIME.read_text(encoding="utf-8"))["python"]
    assert colab in versions, f"make test's Colab check needs Colab's Python {colab}"
    assert python["with"]["cache"] == "pip"
    assert python["with"]["cache-dependency-path"] == "requirements-lock.txt"


def test_the_canary_runs_weekly_and_by_hand_and_reads_colabs_list_at_run_time():
    workflow = load("canary.yml")
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    (schedule,) = workflow["on"]["schedule"]
    minute, hour, day, month, weekday = schedule["cron"].split()
    assert (day, month) == ("*", "*") and weekday.isdigit()  # once a week
    runs = " ".join(s.get("run", "") for s in steps(workflow))
    assert "googlecolab/backend-info" in runs and "pip-freeze.txt" in runs
    assert "python3 -m tools.canary" in runs and "--label canary" in runs
    assert workflow["jobs"]["report"]["needs"] == ["newest-torch", "colab"]


def test_pages_builds_with_make_site_and_deploys_with_githubs_own_actions():
    workflow = load("pages.yml")
    assert workflow["on"]["push"] == {"branches": ["main"], "tags": ["v*"]}
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    assert "make site" in [s.get("run") for s in build["steps"]]
    upload = next(s for s in build["steps"] if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "_build/site"
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")
    # a cache in a publishing workflow could be poisoned by any run that writes it
    assert all("cache" not in s.get("with", {}) for s in build["steps"])


# --- the canary's report ------------------------------------------------------------------


def result(folder: Path, status: int | None, log: str = "", about: str = "") -> None:
    folder.mkdir(parents=True)
    (folder / "log.txt").write_text(log, encoding="utf-8")
    if status is not None:
        (folder / "status").write_text(f"{status}\n", encoding="utf-8")
    if about:
        (folder / "about.txt").write_text(about, encoding="utf-8")


def run_report(tmp_path: Path) -> tuple[int, str]:
    out = tmp_path / "issue.md"
    code = canary.main(
        [str(tmp_path / "results"), "--expect", "newest-torch", "colab"]
        + ["--run-url", "https://example.invalid/run/1", "--out", str(out)]
    )
    return code, out.read_text(encoding="utf-8")


def test_the_report_names_the_notebook_the_cell_and_its_first_line(tmp_path):
    notebook = "04_trainable_parameters.ipynb"
    code_cells = [c for c in nbio.read(nbio.NOTEBOOKS / notebook).cells if c.cell_type == "code"]
    first = next(line for line in code_cells[3].source.splitlines() if line.strip()).strip()
    log = (
        "collected 40 items\n...\n=== short test summary info ===\n"
        f"FAILED notebooks/{notebook}::Cell 3 - \x1b[91mCell outputs differ\x1b[0m\n"
        "1 failed, 39 passed in 60.00s\n"
    )
    result(tmp_path / "results" / "newest-torch", 1, log)
    result(tmp_path / "results" / "colab", 0, "40 passed\n", about="Python 3.13, torch 2.11.0")
    code, text = run_report(tmp_path)
    assert code == 1
    assert text.startswith(canary.MARKER)
    row = next(line for line in text.splitlines() if notebook in line)
    assert "code cell 4 (nbval's Cell 3)" in row and "Cell outputs differ" in row
    assert f"`{first.replace('`', chr(39))}`" in row
    assert "Every notebook passed." in text and "Python 3.13, torch 2.11.0" in text
    assert "https://example.invalid/run/1" in text


def test_the_report_says_when_a_check_left_no_result_or_named_no_cell(tmp_path):
    result(tmp_path / "results" / "newest-torch", 2, "ERROR: No matching distribution\n")
    (tmp_path / "results").joinpath("colab").mkdir()  # its job stopped before the check
    code, text = run_report(tmp_path)
    assert code == 1
    assert "exit status 2" in text and "ERROR: No matching distribution" in text
    assert "No result: the job stopped before the check ran" in text


def test_the_report_passes_when_both_checks_pass(tmp_path):
    for name in ("newest-torch", "colab"):
        result(tmp_path / "results" / name, 0, "40 passed\n")
    code, text = run_report(tmp_path)
    assert code == 0 and "The weekly canary passed" in text
