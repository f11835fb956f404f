"""The Homebrew formula, checked without Homebrew: it is what `generate.py` writes from
the pins, its resources are exactly the pinned runtime dependencies, its own version is the
package's, and Ruby accepts its syntax."""

from __future__ import annotations

import re
import subprocess
from importlib.metadata import requires
from importlib.metadata import version as dist_version
from pathlib import Path
from types import ModuleType

import scriptfile
from realclients import require_tool

REPO = Path(__file__).resolve().parents[2]
FORMULA = REPO / "packaging" / "homebrew" / "ecr-sso.rb"


def generator() -> ModuleType:
    return scriptfile.load(REPO / "packaging" / "homebrew" / "generate.py")


def test_formula_is_what_the_pins_generate() -> None:
    gen = generator()
    assert FORMULA.read_text() == gen.formula(gen.load_pins())
    assert gen.main(["--check"]) == 0


def test_resources_match_the_pins() -> None:
    pins = generator().load_pins()
    text = FORMULA.read_text()
    resources = dict(
        re.findall(r'resource "([^"]+)" do\n\s+url "[^"]+"\n\s+sha256 "([0-9a-f]{64})"', text)
    )
    assert resources == {n: p["sha256"] for n, p in pins.items() if n != "ecr-sso"}
    for name, pin in pins.items():
        if name != "ecr-sso":
            assert pin["url"].startswith("https://files.pythonhosted.org/packages/")
            assert pin["url"].endswith(f"-{pin['version']}.tar.gz")


def test_every_runtime_dependency_is_pinned() -> None:
    """Our direct dependencies for Python 3.13 (Homebrew's); the pin file lists them and
    what they need on macOS."""
    pins = generator().load_pins()
    assert pins["ecr-sso"]["version"] == dist_version("ecr-sso")
    direct = {
        re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0].lower()
        for req in requires("ecr-sso") or []
        if "extra ==" not in req and "python_version < '3.11'" not in req
    }
    assert direct
    assert direct <= {n.lower() for n in pins}


def test_ruby_accepts_the_syntax() -> None:
    ruby = require_tool("ruby")
    result = subprocess.run([ruby, "-c", str(FORMULA)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Syntax OK\n"


def test_test_block_runs_version_and_a_non_ecr_get() -> None:
    block = FORMULA.read_text().split("  test do\n", 1)[1]
    assert "docker-credential-ecr-sso version" in block
    assert "docker-credential-ecr-sso get" in block
    assert "registry.example.com" in block
