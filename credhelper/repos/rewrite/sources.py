"""The files of one run, each read (through `treefile`) and parsed at most once, whether
the project pass or the scan asks first, with why when one cannot be read."""

from __future__ import annotations

from dataclasses import dataclass, field

from credhelper.repos.rewrite import treefile, walk, yamlload
from credhelper.repos.rewrite.yamlload import Node

#: Files larger than this are not image-reference files (a generated bundle, a dump).
MAX_BYTES = 4 * 1024 * 1024


@dataclass
class Text:
    """A file's text and identity, or why there is none (`problem`; empty when the file
    simply is not there any more)."""

    text: str = ""
    identity: treefile.Identity | None = None
    problem: str = ""


@dataclass
class Sources:
    """The run's files by path, read on demand."""

    files: dict[str, walk.Listed]
    _folders: treefile.Folders = field(default_factory=treefile.Folders)
    _texts: dict[str, Text] = field(default_factory=dict)
    _parsed: dict[str, list[Node] | yamlload.NotParsed] = field(default_factory=dict)

    def text(self, path: str) -> Text:
        """The text of the file at `path` (a key of `files`)."""
        cached = self._texts.get(path)
        if cached is None:
            cached = self._texts[path] = _read(self.files[path], self._folders)
        return cached

    def documents(self, path: str) -> list[Node]:
        """The YAML documents of the file at `path`; NotParsed when it is not YAML."""
        cached = self._parsed.get(path)
        if cached is None:
            try:
                cached = yamlload.documents(self.text(path).text)
            except yamlload.NotParsed as err:
                cached = err
            self._parsed[path] = cached
        if isinstance(cached, yamlload.NotParsed):
            raise cached
        return cached

    def release(self, path: str) -> None:
        """Forget the file at `path` once it is scanned: a large tree's parsed documents
        kept alive would make every garbage collection walk them all."""
        self._texts.pop(path, None)
        self._parsed.pop(path, None)

    def close(self) -> None:
        """Close the folder kept open."""
        self._folders.close()


def _read(listed: walk.Listed, folders: treefile.Folders) -> Text:
    try:
        data, identity = treefile.read(listed.place, MAX_BYTES, folders)
    except treefile.Gone:
        return Text()
    except treefile.Refused as err:
        return Text(problem=str(err))
    try:
        # No newline translation: CRLF files stay CRLF.
        return Text(data.decode("utf-8"), identity)
    except UnicodeDecodeError:
        return Text(problem="not UTF-8 text")
