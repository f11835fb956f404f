"""File locations: our overrides, the AWS and Docker variables, platformdirs' defaults, and
the stdlib mirror the cache-hit path uses instead of platformdirs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from credhelper.paths import (
    Paths,
    aws_config_file,
    aws_credentials_file,
    fast_cache_dir,
    fast_config_file,
)

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the mirrored rules are checked on Linux here"
)


def home() -> Path:
    return Path(os.environ["HOME"])


def assert_mirror_agrees() -> Paths:
    """The fast path's answer is platformdirs' answer, under the current os.environ
    (platformdirs reads os.environ itself, so the mapping passed must be that one)."""
    paths = Paths.from_environ(os.environ)
    assert fast_cache_dir(os.environ) == paths.cache_dir
    assert fast_config_file(os.environ) == paths.config_file
    return paths


def test_isolated_env_points_under_home() -> None:
    paths = assert_mirror_agrees()
    assert paths.home == str(home())
    assert Path(paths.cache_dir).is_relative_to(home())
    assert Path(paths.config_file).name == "config.toml"
    assert Path(paths.config_file).parent.name == "ecr-sso"


def test_xdg_variables_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xc"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xg"))
    paths = assert_mirror_agrees()
    assert paths.cache_dir == str(tmp_path / "xc" / "ecr-sso")
    assert paths.config_file == str(tmp_path / "xg" / "ecr-sso" / "config.toml")


def test_xdg_variables_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    paths = assert_mirror_agrees()
    assert paths.cache_dir == str(home() / ".cache" / "ecr-sso")
    assert paths.config_file == str(home() / ".config" / "ecr-sso" / "config.toml")


@pytest.mark.parametrize("value", ["", "   "])
def test_xdg_variables_blank(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", value)
    monkeypatch.setenv("XDG_CONFIG_HOME", value)
    paths = assert_mirror_agrees()
    assert paths.cache_dir == str(home() / ".cache" / "ecr-sso")


@pytest.mark.parametrize("value", ["relative/cache", "~/cache", " /leading-space"])
def test_xdg_variables_not_absolute(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    # The XDG spec: a relative path in these variables is invalid and is ignored.
    # platformdirs does so; the mirror must agree, or the hit path reads a folder
    # relative to whatever directory docker was started in.
    monkeypatch.setenv("XDG_CACHE_HOME", value)
    monkeypatch.setenv("XDG_CONFIG_HOME", value)
    paths = assert_mirror_agrees()
    assert paths.cache_dir == str(home() / ".cache" / "ecr-sso")
    assert paths.config_file == str(home() / ".config" / "ecr-sso" / "config.toml")


def test_xdg_unset_and_home_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    other_home = tmp_path / "other home"
    other_home.mkdir()
    monkeypatch.setenv("HOME", str(other_home))
    paths = assert_mirror_agrees()
    assert paths.home == str(other_home)
    assert paths.cache_dir == str(other_home / ".cache" / "ecr-sso")


def test_our_overrides_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECR_SSO_CACHE_DIR", str(tmp_path / "my-cache"))
    monkeypatch.setenv("ECR_SSO_CONFIG", str(tmp_path / "my.toml"))
    paths = assert_mirror_agrees()
    assert paths.cache_dir == str(tmp_path / "my-cache")
    assert paths.config_file == str(tmp_path / "my.toml")


def test_our_overrides_win_without_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("ECR_SSO_CACHE_DIR", str(tmp_path / "my-cache"))
    monkeypatch.setenv("ECR_SSO_CONFIG", str(tmp_path / "my.toml"))
    paths = assert_mirror_agrees()
    assert paths.cache_dir == str(tmp_path / "my-cache")
    assert paths.config_file == str(tmp_path / "my.toml")


def test_empty_overrides_are_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECR_SSO_CACHE_DIR", "")
    monkeypatch.setenv("ECR_SSO_CONFIG", "")
    paths = assert_mirror_agrees()
    assert paths.cache_dir.endswith(os.sep + "ecr-sso")


def test_aws_config_file_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "elsewhere"))
    assert Paths.from_environ(os.environ).aws_config_file == str(tmp_path / "elsewhere")
    assert aws_config_file(os.environ) == str(tmp_path / "elsewhere")


def test_aws_config_file_tilde_is_expanded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", "~/aws/cfg")
    assert Paths.from_environ(os.environ).aws_config_file == str(home() / "aws" / "cfg")


def test_aws_config_file_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_CONFIG_FILE", raising=False)
    paths = Paths.from_environ(os.environ)
    assert paths.aws_config_file == str(home() / ".aws" / "config")
    # The SSO token cache is fixed under the home directory whatever AWS_CONFIG_FILE says.
    assert paths.sso_cache_dir == str(home() / ".aws" / "sso" / "cache")


def test_docker_config_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dc"))
    paths = Paths.from_environ(os.environ)
    assert paths.docker_config_dir == str(tmp_path / "dc")
    assert paths.docker_config_file == str(tmp_path / "dc" / "config.json")


def test_docker_config_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    paths = Paths.from_environ(os.environ)
    assert paths.docker_config_file == str(home() / ".docker" / "config.json")


def test_from_environ_reads_the_mapping_it_is_given(tmp_path: Path) -> None:
    # Our own variables come from the mapping passed in, not from os.environ.
    environ = dict(os.environ)
    environ["ECR_SSO_CACHE_DIR"] = str(tmp_path / "c")
    environ["ECR_SSO_CONFIG"] = str(tmp_path / "f.toml")
    environ["AWS_CONFIG_FILE"] = str(tmp_path / "a")
    environ["DOCKER_CONFIG"] = str(tmp_path / "d")
    paths = Paths.from_environ(environ)
    assert (paths.cache_dir, paths.config_file, paths.aws_config_file) == (
        str(tmp_path / "c"),
        str(tmp_path / "f.toml"),
        str(tmp_path / "a"),
    )
    assert paths.docker_config_dir == str(tmp_path / "d")
    assert "ECR_SSO_CACHE_DIR" not in os.environ


@pytest.mark.parametrize("home", ["/home/me", "/home/me/", "/", None])
def test_home_is_found_as_botocore_finds_it(
    monkeypatch: pytest.MonkeyPatch, home: str | None
) -> None:
    # botocore expands `~/.aws/config` and its SSO cache with os.path.expanduser: HOME when
    # set (even "/"), else the password database. Our paths follow the same rule.
    if home is None:
        monkeypatch.delenv("HOME")
    else:
        monkeypatch.setenv("HOME", home)
    monkeypatch.delenv("AWS_CONFIG_FILE")
    monkeypatch.delenv("DOCKER_CONFIG")
    expected = os.path.expanduser("~")

    paths = Paths.from_environ(os.environ)

    assert paths.home == expected
    assert paths.aws_config_file == os.path.join(expected, ".aws", "config")
    assert paths.sso_cache_dir == os.path.join(expected, ".aws", "sso", "cache")
    assert paths.docker_config_dir == os.path.join(expected, ".docker")


def test_aws_config_file_is_botocores(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.session

    monkeypatch.delenv("AWS_CONFIG_FILE")
    expected = os.path.expanduser(botocore.session.Session().get_config_variable("config_file"))

    assert aws_config_file(os.environ) == expected
    monkeypatch.setenv("AWS_CONFIG_FILE", "~/elsewhere/config")
    expected = os.path.expanduser(botocore.session.Session().get_config_variable("config_file"))
    assert aws_config_file(os.environ) == expected == str(home() / "elsewhere" / "config")


def test_aws_credentials_file_as_botocore_finds_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = str(tmp_path)
    monkeypatch.setenv("HOME", home)
    assert aws_credentials_file({}) == os.path.join(home, ".aws", "credentials")
    assert aws_credentials_file({"AWS_SHARED_CREDENTIALS_FILE": "~/c"}) == (os.path.join(home, "c"))
