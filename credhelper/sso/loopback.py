"""The listener that catches a sign-in's redirect: HTTP on 127.0.0.1, an ephemeral port,
one path (`/oauth/callback`), one answer.

It listens on the loopback address only (never on every interface), answers the browser
with a short page saying what happened, and hands the first redirect that carries the
sign-in's `state` to the waiting flow. Every other request is answered 400 and ignored:
another path or method, a missing, foreign or malformed `state`, a malformed code, and —
where the system says who opened a connection (Linux) — a connection that another user
opened, whatever it carries, because the state and the port are on the browser's command
line for every local user to read. Connections a browser opens speculatively and never
uses do not block it: each is served on its own short-lived thread.
"""

from __future__ import annotations

import hmac
import html
import logging
import os
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from credhelper.sso.peer import peer_of

log = logging.getLogger(__name__)

CALLBACK_PATH = "/oauth/callback"
#: How often the wait looks at the clock and at the browser process; also how quickly
#: Ctrl-C is noticed on platforms where a blocked wait does not see it at once.
_TICK = 0.2

#: An authorization code or OAuth error code: visible ASCII, bounded (RFC 6749's
#: characters for `error`; AWS's codes are of the same kind).
_TOKEN = re.compile(r"[\x21-\x7e]{1,4096}")
#: An `error_description`: printable ASCII (RFC 6749), else it is dropped.
_TEXT = re.compile(r"[\x20-\x7e]{1,1000}")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ecr-sso</title></head>
<body style="font-family: sans-serif; margin: 3em">
<h1>{title}</h1><p>{text}</p></body></html>
"""


@dataclass(frozen=True)
class Answer:
    """How the wait ended: `kind` is "redirect" (the browser came back; `error` is None on
    success), "timeout", or "browser" (the browser failed; `description` says how)."""

    kind: str = "redirect"
    code: str | None = None
    state: str | None = None
    error: str | None = None
    description: str | None = None


class Listener:
    """`with Listener(state) as listener:` — `listener.redirect_uri` is the URI to send
    to the authorize page; `listener.wait(timeout)` returns the redirect's `Answer`."""

    def __init__(self, expected_state: str) -> None:
        self.expected_state = expected_state
        #: Whose connections are taken, where the system says whose a connection is.
        self.own_uid = os.getuid()
        self._answers: queue.Queue[Answer] = queue.Queue()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": _TICK}, daemon=True
        )

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{CALLBACK_PATH}"

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def wait(self, timeout: float, failed: Callable[[], str | None] | None = None) -> Answer:
        """The first redirect's answer; a "timeout" answer after `timeout` seconds, a
        "browser" answer as soon as `failed()` names a reason."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Answer(kind="timeout")
            try:
                return self._answers.get(timeout=min(_TICK, remaining))
            except queue.Empty:
                pass
            why = failed() if failed is not None else None
            if why is not None:
                # The browser may have delivered the redirect just before it exited.
                try:
                    return self._answers.get_nowait()
                except queue.Empty:
                    return Answer(kind="browser", description=why)

    def _deliver(self, answer: Answer) -> None:
        self._answers.put(answer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, listener: Listener) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.listener = listener

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Never a traceback on stderr: under docker that is the person's terminal, and a
        local program must not be able to write there through us."""
        log.debug("the sign-in listener failed on a request", exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # A connection that sends nothing is dropped after this long.
    timeout = 10
    # A request line that is not HTTP/1.x is still answered with a status line.
    default_request_version = "HTTP/1.0"

    def parse_request(self) -> bool:
        """Only GET is served: any other method is refused like any other wrong request
        (400), not with http.server's 501."""
        if not super().parse_request():
            return False
        if self.command != "GET":
            self._refuse("another method", "This address only receives a sign-in.")
            return False
        return True

    def do_GET(self) -> None:
        listener = self.server.listener
        url = urlsplit(self.path)
        if url.path != CALLBACK_PATH:
            self._refuse("another path", "This address only receives a sign-in.")
            return
        who = peer_of(self.connection)
        if who.known and who.uid not in (listener.own_uid, 0):
            # Another local user can read the state and the port on the browser's command
            # line; the kernel's word on who opened the connection is what they cannot
            # fake. Root is accepted: it could read our memory anyway, and it is who
            # relays a connection on some systems (WSL 2's localhost forwarding).
            self._refuse(
                f"a connection of user {who.uid}" if who.uid is not None else "an unowned one",
                "This answer came from another user's program.",
            )
            return
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        error = query.get("error")
        if error is None and "code" not in query:
            self._refuse("no answer", "The address was opened without a sign-in answer.")
            return
        state = query.get("state", "")
        if not (state.isascii() and hmac.compare_digest(state, listener.expected_state)):
            # Any local program can call this address: an answer without this sign-in's
            # state is refused and the listener keeps waiting for the real one (or its
            # timeout), so a stray or hostile request can neither sign in nor abort it.
            self._refuse("another state", "This answer does not belong to the sign-in.")
            return
        code = query.get("code")
        if (error is not None and _TOKEN.fullmatch(error) is None) or (
            error is None and (code is None or _TOKEN.fullmatch(code) is None)
        ):
            self._refuse("a malformed answer", "This answer is malformed.")
            return
        description = query.get("error_description")
        answer = Answer(
            code=code if error is None else None,
            state=state,
            error=error,
            description=description if description and _TEXT.fullmatch(description) else None,
        )
        if error is not None:
            self._page(400, "Sign-in failed", f"The sign-in was not completed ({error}).")
        else:
            self._page(200, "Signed in", "ecr-sso has your sign-in. You can close this tab.")
        listener._deliver(answer)

    def _refuse(self, why: str, text: str) -> None:
        log.info("the sign-in listener refused a request: %s", why)
        self._page(400, "Refused", text)

    def _page(self, status: int, title: str, text: str) -> None:
        body = _PAGE.format(title=html.escape(title), text=html.escape(text)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: under docker, stdout is the protocol and stderr is not for us."""
