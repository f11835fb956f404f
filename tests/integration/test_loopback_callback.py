"""The sign-in's loopback listener against hostile requests, over real HTTP.

The authorize URL — with the listener's port and the sign-in's `state` — is on the
browser's command line, which every local user can read (`ps`, /proc/PID/cmdline). So the
listener must hold when the attacker knows both: a connection another user opened is
refused whatever it carries, and nothing a request carries (a non-ASCII or malformed state
or code, another method, another path) gets more than a 400 or reaches the terminal as a
traceback. After every refusal the real redirect still signs in.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import Env
from fakeoidc import (  # noqa: F401 - fixtures
    FAKE_BROWSER,
    browser_fixture,
    ecr_sso,
    oidc_fixture,
    signin_server,
    token_file,
    write_sso_config,
)
from localuser import as_user

from credhelper.sso.loopback import Listener
from credhelper.sso.peer import Peer, peer_of

STATE = "the-sign-ins-state"
GUARD_SECONDS = 10  # a hang guard, never a wait


def ask(listener: Listener, request: bytes) -> int:
    """Send one raw HTTP request to the listener; the status code it answers."""
    port = urlsplit(listener.redirect_uri).port
    assert port is not None
    with socket.create_connection(("127.0.0.1", port), timeout=GUARD_SECONDS) as conn:
        conn.sendall(request)
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    status_line = reply.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1."), reply[:200]
    return int(status_line.split()[1])


def get(target: str, method: str = "GET") -> bytes:
    return f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode(
        "latin-1"
    )


REFUSED = {
    "another path": get("/favicon.ico"),
    "the root": get("/"),
    "no query": get("/oauth/callback"),
    "a code without state": get("/oauth/callback?code=c1"),
    "a foreign state": get("/oauth/callback?code=c1&state=theirs"),
    "an error with a foreign state": get("/oauth/callback?error=access_denied&state=theirs"),
    "a non-ASCII state, percent-encoded": get("/oauth/callback?code=c1&state=%C3%A9t%C3%A9"),
    "a non-ASCII state, raw bytes": b"GET /oauth/callback?code=c1&state=\xc3\xa9 HTTP/1.1\r\n"
    b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n",
    "a state that is not UTF-8": get("/oauth/callback?code=c1&state=%ff%fe"),
    "a state with a NUL": get(f"/oauth/callback?code=c1&state={STATE}%00"),
    "a broken escape": get("/oauth/callback?code=c1&state=%zz"),
    "a non-ASCII code": get(f"/oauth/callback?code=%C3%A9&state={STATE}"),
    "a code with an escape sequence": get(f"/oauth/callback?code=c%1b%5b2J&state={STATE}"),
    "an empty code": get(f"/oauth/callback?code=&state={STATE}"),
    "an error with a control character": get(f"/oauth/callback?error=x%07&state={STATE}"),
    "POST": get(f"/oauth/callback?code=c1&state={STATE}", "POST"),
    "HEAD": get(f"/oauth/callback?code=c1&state={STATE}", "HEAD"),
    "a made-up method": get(f"/oauth/callback?code=c1&state={STATE}", "BREW"),
    "a request line that is not HTTP": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
}


@pytest.mark.parametrize("request_bytes", REFUSED.values(), ids=REFUSED.keys())
def test_anything_but_the_redirect_is_answered_400_and_the_sign_in_waits_on(
    request_bytes: bytes, capfd: pytest.CaptureFixture[str]
) -> None:
    """The README's claim: any other request is answered 400, and the sign-in keeps
    waiting for the real redirect; nothing is printed (the listener runs under docker,
    whose terminal is the person's)."""
    with Listener(STATE) as listener:
        refused = ask(listener, request_bytes)
        accepted = ask(listener, get(f"/oauth/callback?code=the-code&state={STATE}"))
        answer = listener.wait(GUARD_SECONDS)

    assert refused == 400
    assert accepted == 200
    assert (answer.kind, answer.code, answer.error) == ("redirect", "the-code", None)
    out, err = capfd.readouterr()
    assert (out, err) == ("", ""), "a refusal prints nothing (no traceback)"


# -- who opened a connection ------------------------------------------------------------


@contextlib.contextmanager
def accepted_connection() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A loopback connection: (our accepted end, their end)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        theirs = socket.create_connection(server.getsockname()[:2], timeout=GUARD_SECONDS)
        ours, _ = server.accept()
        with ours, theirs:
            yield ours, theirs


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="Linux's /proc/net/tcp")
def test_the_kernel_names_the_owner_of_a_connection() -> None:
    with accepted_connection() as (ours, _):
        assert peer_of(ours) == Peer(known=True, uid=os.getuid())


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="Linux's /proc/net/tcp")
def test_a_connection_closed_before_we_look_has_no_owner() -> None:
    """Closed, their end lingers (FIN_WAIT) with no process holding it: not ours, and not
    root's either, whatever uid the table prints for it."""
    with accepted_connection() as (ours, theirs):
        theirs.close()
        assert peer_of(ours) == Peer(known=True, uid=None)


def test_a_system_without_the_tables_does_not_know(tmp_path: Path) -> None:
    with accepted_connection() as (ours, _):
        assert peer_of(ours, proc_net=tmp_path) == Peer(known=False)


def test_tables_without_the_connection_name_nobody(tmp_path: Path) -> None:
    (tmp_path / "tcp").write_text("  sl  local_address rem_address   st\n")
    with accepted_connection() as (ours, _):
        assert peer_of(ours, proc_net=tmp_path) == Peer(known=True, uid=None)


# -- another user, end to end -----------------------------------------------------------


def bash_request(port: int, target: str) -> list[str]:
    """A command that sends one GET over bash's /dev/tcp and prints the status line: no
    Python needed, so it runs as a user who cannot reach this venv."""
    script = (
        'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 9; '
        'printf "GET %s HTTP/1.0\\r\\n\\r\\n" "$1" >&3; head -n 1 <&3'
    )
    return ["bash", "-c", script, str(port), target]


def test_another_users_connection_is_refused_even_with_the_state(
    other_user: pwd.struct_passwd,
) -> None:
    """Another local user who read the state and port from the browser's command line can
    neither end the sign-in (an error redirect) nor complete it (a code of their own):
    the kernel says whose connection it is, and theirs is refused."""
    with Listener(STATE) as listener:
        port = urlsplit(listener.redirect_uri).port
        assert port is not None
        replies = [
            subprocess.run(
                [*as_user(other_user), *bash_request(port, f"/oauth/callback?{query}")],
                capture_output=True,
                text=True,
                timeout=GUARD_SECONDS,
                check=False,
            )
            for query in (f"error=access_denied&state={STATE}", f"code=theirs&state={STATE}")
        ]
        accepted = ask(listener, get(f"/oauth/callback?code=mine&state={STATE}"))
        answer = listener.wait(GUARD_SECONDS)

    for reply in replies:
        assert reply.stdout.startswith("HTTP/1.0 400 "), (reply.stdout, reply.stderr)
    assert accepted == 200
    assert (answer.kind, answer.code, answer.error) == ("redirect", "mine", None)


def hostile_browser(tmp_path: Path, prefix: list[str], queries: list[str]) -> Path:
    """A BROWSER that first plays the attacker — reads the state and port from its own
    command line, as any local user can, and sends each of `queries` (with `&state=` and
    the state added) to the listener, running the request with `prefix` — then opens the
    page as the person does. Returns the file where the attacker notes each status line."""
    record = tmp_path / "attacker.out"
    attack = shlex.join([*prefix, *bash_request(0, "")[:3]])  # the port and target follow
    browser = tmp_path / "hostile-browser"
    browser.write_text(
        "#!/bin/bash\n"
        'url=$1\nstate=$(printf "%s" "$url" | sed -n "s/.*[?&]state=\\([^&]*\\).*/\\1/p")\n'
        'port=$(printf "%s" "$url" | sed -n "s/.*127\\.0\\.0\\.1%3A\\([0-9]*\\).*/\\1/p")\n'
        f"for query in {shlex.join(queries)}; do\n"
        f'  {attack} "$port" "/oauth/callback?$query&state=$state" >>"{record}" 2>&1\n'
        "done\n"
        f'exec "{sys.executable}" "{FAKE_BROWSER}" "$url"\n'
    )
    browser.chmod(0o755)
    return record


@pytest.mark.usefixtures("aws", "oidc", "browser")
def test_a_sign_in_survives_another_user_who_read_its_state(
    env: Env,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    other_user: pwd.struct_passwd,
) -> None:
    """End to end: `ecr-sso login` while another user, knowing the state and port, tries
    first to deny the sign-in and then to complete it with their own code."""
    write_sso_config(env)
    record = hostile_browser(tmp_path, as_user(other_user), ["error=access_denied", "code=theirs"])
    monkeypatch.setenv("BROWSER", str(tmp_path / "hostile-browser"))

    result = ecr_sso("login", "dev", "--timeout", "30")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("signed in to sso-session 'team' until ")
    assert record.read_text().splitlines() == ["HTTP/1.0 400 Bad Request"] * 2
    assert "Traceback" not in result.stderr


@pytest.mark.usefixtures("aws", "oidc", "browser")
def test_a_malformed_answer_is_a_400_not_a_traceback(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end, from the person's own user (whom the listener cannot refuse by owner):
    answers with a non-ASCII, non-UTF-8 or control-character state or code are each a 400,
    nothing reaches the terminal, and the real redirect then signs in."""
    write_sso_config(env)
    queries = ["code=c&state=%C3%A9", "code=c&state=%ff", "code=%1b%5b2J", "error=%C3%A9&state=%00"]
    record = hostile_browser(tmp_path, [], queries)
    monkeypatch.setenv("BROWSER", str(tmp_path / "hostile-browser"))

    result = ecr_sso("login", "dev", "--timeout", "30")

    assert result.returncode == 0, result.stderr
    assert record.read_text().splitlines() == ["HTTP/1.0 400 Bad Request"] * len(queries)
    assert "Traceback" not in result.stderr
    assert "Error" not in result.stderr
    assert token_file(env, "team").exists()
