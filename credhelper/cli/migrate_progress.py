"""How a migration shows itself while it runs.

On a terminal: a live display from rich (the overall bar with tags done of the total,
bytes, the time left; the copies in flight; Docker Hub's allowance; the countdown of a
wait), redrawn in place and gone at the end. Elsewhere (CI, a pipe): one line per tag
finished and one per wait, nothing redrawn. Every name shown comes from a registry and
goes through `shown` first.
"""

from __future__ import annotations

from typing import Any, TextIO

from credhelper.repos import ratelimit
from credhelper.repos.journal import Entry
from credhelper.repos.migrate import COPIED, TAGGED, Outcome
from credhelper.shown import shown


class LineDisplay:
    """One line per finished tag and per wait, on `stream`."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._waiting = False

    def start(self, total: int, size: int | None) -> None:
        if total:
            self._say(f"{total} tag{'s' if total != 1 else ''} to copy")

    def started(self, entry: Entry) -> None:
        return

    def finished(self, entry: Entry, outcome: Outcome) -> None:
        if outcome.result == COPIED:
            self._say(
                f"copied {shown(outcome.source)} to {shown(outcome.destination)} ({outcome.digest})"
            )
        elif outcome.result == TAGGED:
            self._say(
                f"tagged {shown(outcome.destination)}, {shown(outcome.reason)} ({outcome.digest})"
            )
        else:
            self._say(f"{outcome.result} {shown(outcome.source)}: {shown(outcome.reason)}")

    def allowance(self, available: int | None, last: ratelimit.Reading | None) -> None:
        return

    def waiting(self, seconds: int, why: str) -> None:
        if seconds <= 0:
            if self._waiting:
                self._say("waited; carrying on")
            self._waiting = False
            return
        if not self._waiting:
            self._waiting = True
            self._say(
                f"{why}: waiting {ratelimit.duration(seconds)} (Ctrl-C stops;"
                " `ecr-sso migrate --resume` carries on)"
            )

    def note(self, line: str) -> None:
        self.stream.write(shown(line) + "\n")
        self.stream.flush()

    def close(self) -> None:
        return

    def _say(self, line: str) -> None:
        self.stream.write(f"migrate: {shown(line)}\n")
        self.stream.flush()


class LiveDisplay:
    """The terminal display (rich, imported only here and only for a terminal)."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console

        self.console = Console(file=stream, highlight=False, markup=False)
        self._live: Any = None
        self._progress: Any = None
        self._task: Any = None
        self._running: dict[tuple[str, str], str] = {}
        self._allowance = ""
        self._wait = ""
        self._bytes = 0
        self._size: int | None = None

    def start(self, total: int, size: int | None) -> None:
        from rich.live import Live
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._size = size
        self._progress = Progress(
            TextColumn("migrate"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("tags"),
            TextColumn("{task.fields[bytes]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=self.console,
        )
        self._task = self._progress.add_task("migrate", total=total, bytes=self._bytes_text())
        self._live = Live(
            self._render(), console=self.console, refresh_per_second=4, transient=True
        )
        self._live.start()

    def started(self, entry: Entry) -> None:
        self._running[entry.key] = shown(f"{entry.shown}:{entry.tag}")
        self._refresh()

    def finished(self, entry: Entry, outcome: Outcome) -> None:
        self._running.pop(entry.key, None)
        if outcome.result == COPIED and entry.size:
            self._bytes += entry.size
        if self._progress is not None:
            self._progress.update(self._task, advance=1, bytes=self._bytes_text())
        if outcome.result not in (COPIED, TAGGED):
            self.console.print(f"{outcome.result} {shown(outcome.source)}: {shown(outcome.reason)}")
        self._refresh()

    def allowance(self, available: int | None, last: ratelimit.Reading | None) -> None:
        if last is not None and available is not None:
            self._allowance = f"Docker Hub: {max(available, 0)} of {last.limit} pulls left"
        self._refresh()

    def waiting(self, seconds: int, why: str) -> None:
        self._wait = f"{why}: waiting {ratelimit.duration(seconds)}" if seconds > 0 else ""
        self._refresh()

    def note(self, line: str) -> None:
        self.console.print(shown(line))

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _bytes_text(self) -> str:
        if not self._size:
            return ""
        return f"{_size(self._bytes)} of {_size(self._size)}"

    def _render(self) -> Any:
        from rich.console import Group
        from rich.text import Text

        lines: list[Any] = [self._progress]
        if self._running:
            names = list(self._running.values())
            more = f" (+{len(names) - 4})" if len(names) > 4 else ""
            lines.append(Text("copying " + ", ".join(names[:4]) + more))
        if self._allowance:
            lines.append(Text(self._allowance))
        if self._wait:
            lines.append(Text(self._wait))
        return Group(*lines)

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._render())


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"
