"""The progress line: drawn on a terminal, silent otherwise, erased at the end."""

from __future__ import annotations

import io

from credhelper.cli.progress import Progress


def test_silent_when_disabled() -> None:
    stream = io.StringIO()
    with Progress(stream, "accounts", enabled=False) as progress:
        progress.update(1, 10)
        progress.message("waiting")

    assert stream.getvalue() == ""


def test_draws_final_count_and_erases() -> None:
    stream = io.StringIO()
    with Progress(stream, "accounts", enabled=True) as progress:
        for done in range(1, 1001):
            progress.update(done, 1000)

    text = stream.getvalue()
    assert "\raccounts 1/1000" in text
    assert "\raccounts 1000/1000" in text
    # redraws are rate-limited: far fewer than a thousand
    assert text.count("\r") < 50
    assert text.endswith("\r" + " " * len("accounts 1000/1000") + "\r")


def test_shorter_line_overwrites_longer() -> None:
    stream = io.StringIO()
    progress = Progress(stream, "sign-in", enabled=True)
    progress.message("waiting for the browser")
    progress.message("done")

    last = stream.getvalue().rsplit("\r", 1)[1]
    assert last.startswith("sign-in done")
    assert len(last) == len("sign-in waiting for the browser")
