"""The rewrite benchmark runs, and its generated tree exercises `rewrite --check`: every
Docker Hub reference it plants in values files is listed."""

from __future__ import annotations

import collections
import subprocess
import sys
from pathlib import Path

import scriptfile
from conftest import BIN_DIR, Env

BENCH = scriptfile.REPO / "bench" / "rewrite_bench.py"
HOST = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"


def test_check_lists_every_planted_reference(env: Env, tmp_path: Path) -> None:
    bench = scriptfile.load(BENCH)
    tree = tmp_path / "charts"
    tree.mkdir()
    shape = bench.write_tree(tree, 8, 11, 0.05)
    bench.git_init(tree)
    env.write_config('dockerhub_org = "examplecorp"\n\n[pull_through]\nprefix = "docker-hub"\n')

    done = subprocess.run(
        [BIN_DIR / "ecr-sso", "rewrite", "--check", "--registry", HOST],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 1, done.stderr
    listed = collections.Counter(line.split(":", 1)[0] for line in done.stdout.splitlines())
    planted = collections.Counter(path for path, _ in shape.planted)
    assert planted
    for path, count in planted.items():
        assert listed[path] >= count, (path, done.stdout)


def test_the_benchmark_prints_its_ratio(env: Env) -> None:
    done = subprocess.run(
        [sys.executable, BENCH, "--charts", "3", "--scale", "0.05", "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr
    assert "git grep + python start-up (the baseline)" in done.stdout
    (check,) = [line for line in done.stdout.splitlines() if line.startswith("rewrite --check")]
    assert check.endswith("x  <= 10x")
    assert "references listed" in done.stdout
