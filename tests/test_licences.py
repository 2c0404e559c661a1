"""What an instructor may reuse: the licence files, the package's licence, every notebook's
licence line, and CITATION.cff (valid CFF 1.2.0, in step with notebooks/contents.toml).

The site's footer is checked where the site is built (tests/test_site.py).
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tools import navigation, nbio

REPO = nbio.REPO
CONTENTS = navigation.load_contents()
CHECK_JSONSCHEMA = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))


def test_the_code_is_mit_and_the_package_says_so():
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) ")
    assert "Permission is hereby granted, free of charge" in text
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    # what the build wrote into the installed package's metadata (PEP 639)
    assert importlib.metadata.metadata("lenet-lecture28")["License-Expression"] == "MIT"


def test_the_notebooks_licence_file_holds_the_full_legal_code():
    text = (REPO / "LICENSE-NOTEBOOKS").read_text(encoding="utf-8")
    assert "notebooks/" in text.split("=" * 80)[0]  # it says what it covers, first
    legal = text.split("=" * 80)[1]
    assert "Attribution-NonCommercial-ShareAlike 4.0 International Public License" in legal
    for section in range(1, 9):  # all eight sections, the last one whole
        assert f"Section {section} –" in legal, section
    assert legal.rstrip().endswith("Creative Commons may be contacted at creativecommons.org.")


@pytest.mark.parametrize("notebook", [entry["file"] for entry in CONTENTS["notebooks"]])
def test_every_notebook_ends_with_its_licence_line(notebook):
    footer = nbio.read(nbio.NOTEBOOKS / notebook).cells[-1]
    assert footer.source.startswith(navigation.FOOTER)
    last = footer.source.splitlines()[-1]
    assert last == navigation.licence_line(CONTENTS)
    assert f"[CC BY-NC-SA 4.0]({navigation.CC_BY_NC_SA})" in last
    repository, release = CONTENTS["repository"], CONTENTS["release"]
    assert f"[MIT](https://github.com/{repository}/blob/{release}/LICENSE)" in last
    assert "NPTEL" in last and "Lecture 28" in last


def citation() -> dict:
    return yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))


def test_the_citation_agrees_with_the_table_and_names_both_licences_and_references():
    cff = citation()
    assert CONTENTS["release"] in (cff["version"], f"v{cff['version']}")
    assert cff["repository-code"] == f"https://github.com/{CONTENTS['repository']}"
    assert set(cff["license"]) == {"MIT", "CC-BY-NC-SA-4.0"}
    references = {ref["type"]: ref for ref in cff["references"]}
    assert references["video"]["authors"][0]["family-names"] == "Sheet"
    assert "LeNet Definition" in references["video"]["title"]
    assert references["article"]["doi"] == "10.1109/5.726791"  # LeCun et al., 1998


def test_the_readme_cites_what_the_citation_file_says():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    line = navigation.citation_line(citation())
    assert f"{line}\n<!-- cite:end -->" in readme
    assert f"version {citation()['version']}" in line


def test_a_new_release_or_address_in_the_table_reaches_the_citation(tmp_path):
    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks")
    for name in ("README.md", "CITATION.cff"):
        shutil.copy(REPO / name, tmp_path / name)
    table = tmp_path / "notebooks" / "contents.toml"
    text = table.read_text(encoding="utf-8")
    text = text.replace(f'"{CONTENTS["repository"]}"', '"someone/fork"')
    table.write_text(text.replace(f'"{CONTENTS["release"]}"', '"v3.1"'), encoding="utf-8")
    navigation.write_navigation(tmp_path)
    cff = yaml.safe_load((tmp_path / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["version"] == "3.1"
    assert cff["repository-code"] == "https://github.com/someone/fork"
    assert cff["references"] == citation()["references"]  # the rest is left as written
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "version 3.1. <https://github.com/someone/fork>" in readme
    assert navigation.write_navigation(tmp_path) == []


def test_a_citation_file_without_what_the_cite_line_needs_is_refused():
    with pytest.raises(ValueError, match=r"CITATION.cff lacks \['title'\]"):
        navigation.parse_citation("authors: [{name: x}]\nversion: '1'\nrepository-code: u\n")
    with pytest.raises(ValueError, match="CITATION.cff lacks a top-level 'version:' line"):
        navigation.synced_citation("title: x\n", CONTENTS)


def validate_cff(*paths: Path) -> subprocess.CompletedProcess:
    assert CHECK_JSONSCHEMA, "check-jsonschema is not installed (requirements-dev.txt)"
    command = [CHECK_JSONSCHEMA, "--builtin-schema", "vendor.citation-file-format"]
    return subprocess.run([*command, *map(str, paths)], capture_output=True, text=True)


def test_the_citation_file_is_valid_cff_1_2_0_and_the_validator_catches_broken_ones(tmp_path):
    text = (REPO / "CITATION.cff").read_text(encoding="utf-8")
    breakages = {
        "type: video": "type: lecture",  # not a CFF reference type
        "cff-version: 1.2.0": "cff-version: 1.3.0",
        "doi: 10.1109/5.726791": "doi: 5.726791",
    }
    broken = []
    for number, (good, bad) in enumerate(breakages.items()):
        assert good in text
        broken.append(tmp_path / f"broken-{number}.cff")
        broken[-1].write_text(text.replace(good, bad), encoding="utf-8")
    result = validate_cff(REPO / "CITATION.cff", *broken)  # one start-up for all four
    named = {line.strip().split("::")[0] for line in result.stdout.splitlines() if "::$" in line}
    assert named == {str(path) for path in broken}, result.stdout + result.stderr
    assert result.returncode == 1
