"""README.md tells the truth about the repository: the team file it shows is the shipped
one, every path it names exists, its table of contents leads somewhere, its sections come
in the newcomer's order, and CI runs the test command it documents."""

from __future__ import annotations

import re

import readme

EXPECTED_SECTIONS = [
    "Contents",
    "Quick start",
    "Daily use",
    "Leaving Docker Hub",
    "CI runners",
    "Troubleshooting",
    "Uninstall",
    "Configuration reference",
    "How it works",
    "Architecture",
    "Development",
]

#: `credhelper/` sub-packages, named without the prefix in the Architecture section.
_PACKAGES = ("helper", "aws", "sso", "setup", "repos", "cli")
_PATH = re.compile(r"`((?:install|tests|bench|scripts|credhelper|\.ci)/[^`\s]*|[\w/]+\.py)`")


def test_the_team_file_shown_is_install_example_team_toml() -> None:
    shown = readme.block_after("example-team.toml")
    assert shown == (readme.REPO / "install" / "example-team.toml").read_text(encoding="utf-8")


def test_sections_in_the_newcomers_order() -> None:
    assert [title for _, title in readme.headings(level=2)] == EXPECTED_SECTIONS
    assert readme.text().splitlines()[0] == "# ecr-sso"


def test_every_contents_link_leads_to_a_heading() -> None:
    contents = readme.text().split("## Contents\n", 1)[1].split("\n## ", 1)[0]
    links = re.findall(r"\]\(#([^)]+)\)", contents)
    anchors = {readme.github_anchor(title) for _, title in readme.headings()}
    assert len(links) >= len(EXPECTED_SECTIONS) - 1
    assert [link for link in links if link not in anchors] == []


def test_every_link_within_the_readme_leads_to_a_heading() -> None:
    anchors = {readme.github_anchor(title) for _, title in readme.headings()}
    links = set(re.findall(r"\]\(#([^)]+)\)", readme.text()))
    assert sorted(links - anchors) == []


def test_every_path_named_exists() -> None:
    named = set()
    for found in _PATH.findall(readme.text()):
        path = found.rstrip(".,:;")
        if any(mark in path for mark in "<*…") or path.endswith("/..."):
            continue  # a pattern, not a path
        if path.split("/", 1)[0] in _PACKAGES:
            named.add(f"credhelper/{path}")
        elif "/" in path:  # a bare file name (`conftest.py`) has its folder named nearby
            named.add(path)
    assert "credhelper/helper/main.py" in named
    assert "install/example-team.toml" in named
    assert sorted(p for p in named if not (readme.REPO / p).exists()) == []


def test_the_quick_start_names_only_files_that_exist() -> None:
    files = []
    for step in readme.quickstart_steps():
        for word in step.command.split():
            if "/" not in word or re.fullmatch(r"[\w./-]+:[\w.-]+", word):
                continue  # not a path, or an image reference (`connectedhome/app:1`)
            files.append(word)
            assert (readme.REPO / word).exists(), f"{step.command}: {word} does not exist"
    assert "install/example-team.toml" in files


def test_ci_runs_exactly_the_documented_test_command() -> None:
    ci = (readme.REPO / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line for line in ci.splitlines() if line and not line.startswith(("#", "set "))]
    assert commands[-1] == "exec bash tests/run"
    development = readme.text().split("\n## Development\n", 1)[1]
    assert "CI (`.ci/run`) runs exactly `bash tests/run`" in development
    assert "bash tests/run --fast" in [s.command for s in readme.quickstart_steps()]
