#!/usr/bin/env python3
"""A person's browser, for tests: run as `BROWSER` with the URL as its one argument.

It fetches the URL and follows redirects as a browser does — so on the fake AWS's
authorize page it lands on the sign-in's loopback listener with the code and state —
and appends every URL it fetched to the file named by `FAKE_BROWSER_LOG`.
`FAKE_BROWSER_MODE` changes what the "person" does:

- `visit` (default): open the page and follow it; exit 0 when the last page answered 2xx.
- `ignore`: note the URL, but never open it (a person who walked away); exit 0.
- `fail`: exit 3 at once, as `xdg-open` does when no browser is installed.

With `FAKE_BROWSER_GATE` set, the person looks at the browser only once that file exists
(a test opens the gate when everything it wants to observe is waiting).

Standard library only; proxies are ignored, as a browser bypasses them for loopback.
"""

import os
import sys
import time
import urllib.error
import urllib.request


class _Recorder(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: PLR0917 - urllib's
        _note(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _note(url: str) -> None:
    log = os.environ.get("FAKE_BROWSER_LOG")
    if log:
        # One short write with O_APPEND: lines from concurrent browsers do not interleave.
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (url + "\n").encode())
        finally:
            os.close(fd)


def main() -> int:
    if len(sys.argv) != 2:
        return 2
    url = sys.argv[1]
    mode = os.environ.get("FAKE_BROWSER_MODE", "visit")
    if mode == "fail":
        return 3
    gate = os.environ.get("FAKE_BROWSER_GATE")
    deadline = time.monotonic() + 60
    while gate and not os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.02)  # a person taking their time, not a synchronisation
    _note(url)
    if mode == "ignore":
        return 0
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _Recorder())
    try:
        with opener.open(url, timeout=30) as page:
            page.read()
    except urllib.error.HTTPError as err:
        err.read()
        return 1
    except OSError:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
