"""The listener that catches a sign-in's redirect: HTTP on 127.0.0.1, an ephemeral port,
one path (`/oauth/callback`), one answer.

It listens on the loopback address only (never on every interface), answers the browser
with a short page saying what happened, and hands the first redirect that carries the
sign-in's `state` to the waiting flow; others are answered 400 and ignored. Connections
a browser opens speculatively and never uses do not block it: each is served on its own
short-lived thread.
"""

from __future__ import annotations

import hmac
import html
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CALLBACK_PATH = "/oauth/callback"
#: How often the wait looks at the clock and at the browser process; also how quickly
#: Ctrl-C is noticed on platforms where a blocked wait does not see it at once.
_TICK = 0.2

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


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # A connection that sends nothing is dropped after this long.
    timeout = 10

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != CALLBACK_PATH:
            self._page(404, "Not found", "This address only receives a sign-in.")
            return
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        listener = self.server.listener
        error = query.get("error")
        if error is None and "code" not in query:
            self._page(400, "Not a sign-in answer", "The address was opened without one.")
            return
        if not hmac.compare_digest(query.get("state", ""), listener.expected_state):
            # Any local process can call this address: an answer without this sign-in's
            # state is refused and the listener keeps waiting for the real one (or its
            # timeout), so a stray or hostile request can neither sign in nor abort it.
            self._page(400, "Sign-in refused", "This answer does not belong to the sign-in.")
            return
        answer = Answer(
            code=query.get("code"),
            state=query.get("state"),
            error=error,
            description=query.get("error_description"),
        )
        if error is not None:
            self._page(400, "Sign-in failed", f"The sign-in was not completed ({error}).")
        else:
            self._page(200, "Signed in", "ecr-sso has your sign-in. You can close this tab.")
        listener._deliver(answer)

    def _page(self, status: int, title: str, text: str) -> None:
        body = _PAGE.format(title=html.escape(title), text=html.escape(text)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: under docker, stdout is the protocol and stderr is not for us."""
