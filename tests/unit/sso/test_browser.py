"""Where a browser can be opened, and with which command."""

from __future__ import annotations

import os

import pytest

from credhelper.sso import browser
from credhelper.sso import flows as sso

TEAM = sso.SsoSession("team", "https://example.awsapps.com/start", "eu-west-1")


@pytest.mark.parametrize(
    ("environ", "platform", "reason"),
    [
        ({}, "linux", "there is no display (DISPLAY, WAYLAND_DISPLAY) and BROWSER is not set"),
        ({"DISPLAY": ":0"}, "linux", None),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", None),
        ({"BROWSER": "firefox"}, "linux", None),
        ({}, "darwin", None),
        ({"SSH_CONNECTION": "1.2.3.4 5 6.7.8.9 22"}, "darwin", "this is an SSH session"),
        ({}, "win32", None),
    ],
)
def test_where_a_browser_can_be_opened(
    environ: dict[str, str], platform: str, reason: str | None
) -> None:
    assert browser.unavailable_reason(environ, platform) == reason


def test_browser_commands(tmp_path: os.PathLike[str]) -> None:
    program = os.path.join(tmp_path, "my-browser")
    with open(program, "w") as handle:
        handle.write("#!/bin/sh\n")
    os.chmod(program, 0o700)
    url = "http://x/authorize?a=1&b=2"

    assert browser.command(url, {"BROWSER": program}) == [program, url]
    assert browser.command(url, {"BROWSER": f"/nonexistent:{program} --new-tab %s"}) == [
        program,
        "--new-tab",
        url,
    ]
    assert browser.command(url, {}, "darwin") == ["open", url]
    with pytest.raises(browser.BrowserUnavailable, match="none of the programs in BROWSER"):
        browser.command(url, {"BROWSER": "/nonexistent"})
    with pytest.raises(browser.BrowserUnavailable, match="xdg-open"):
        browser.command(url, {"PATH": str(tmp_path)}, "linux")
