"""When the helper may sign in by itself, and how long it waits."""

from __future__ import annotations

import pytest

from credhelper.errors import ConfigError
from credhelper.helper import autologin
from credhelper.settings import Settings, parse
from credhelper.sso import flows as sso

TEAM = sso.SsoSession("team", "https://example.awsapps.com/start", "eu-west-1")


@pytest.mark.parametrize(
    ("environ", "config", "reason"),
    [
        ({"CI": "true", "DISPLAY": ":0"}, {}, "CI is set"),
        ({"CI": "1", "DISPLAY": ":0"}, {}, "CI is set"),
        ({"CI": "false", "DISPLAY": ":0"}, {}, None),
        ({"ECR_SSO_NO_LOGIN": "1", "DISPLAY": ":0"}, {}, "ECR_SSO_NO_LOGIN is set"),
        ({"ECR_SSO_NO_LOGIN": "0", "DISPLAY": ":0"}, {}, None),
        ({"DISPLAY": ":0"}, {"auto_login": False}, "auto_login = false in cfg.toml"),
        ({}, {}, "there is no display (DISPLAY, WAYLAND_DISPLAY) and BROWSER is not set"),
    ],
)
def test_when_the_helper_may_sign_in(
    environ: dict[str, str], config: dict[str, object], reason: str | None
) -> None:
    assert autologin.refusal(environ, parse(config, "cfg.toml")) == reason


def test_login_timeout_settings() -> None:
    assert autologin.login_timeout({}, Settings()) == 120
    assert autologin.login_timeout({}, parse({"login_timeout": 30}, "c")) == 30
    assert autologin.login_timeout({"ECR_SSO_LOGIN_TIMEOUT": "2.5"}, parse({}, "c")) == 2.5
    with pytest.raises(ConfigError, match="ECR_SSO_LOGIN_TIMEOUT"):
        autologin.login_timeout({"ECR_SSO_LOGIN_TIMEOUT": "soon"}, Settings())
    with pytest.raises(ConfigError, match="c: login_timeout must be a number"):
        autologin.login_timeout({}, parse({"login_timeout": "2m"}, "c"))
    with pytest.raises(ConfigError, match="above 0"):
        autologin.login_timeout({}, parse({"login_timeout": 0}, "c"))
