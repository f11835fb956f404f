"""Image references in a Dockerfile or Containerfile, read the way Docker reads one.

- `FROM [--platform=P] IMAGE [AS NAME]`: IMAGE, unless it is `scratch` or an earlier stage;
- `COPY --from=IMAGE`: IMAGE, unless it names an earlier stage (by name or number);
- a FROM (or COPY --from) that is exactly `$NAME` or `${NAME}`, with `ARG NAME=DEFAULT`
  before the first FROM: the reference is the default, and is edited there;
- any other reference with a variable in it is reported unresolved.

An instruction continues over lines ending in the escape character (`\\`, or the one a
`# escape=` directive names); comment and blank lines inside it are skipped, as Docker
does. Here-documents (`RUN <<EOF`) are skipped to their end marker. Pure: text in, spans out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from credhelper.repos.rewrite.found import Found, Span, is_templated

_DIRECTIVE = re.compile(r"#\s*([A-Za-z]+)\s*=\s*(\S+)\s*")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
_ARG_USE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_WORD = re.compile(r"\S+")
_FROM_FLAG = "--from="


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int


def scan(text: str) -> list[Found]:
    """Every image reference in the Dockerfile `text`, in order."""
    found: list[Found] = []
    args: dict[str, _Token] = {}  # global ARG defaults (before the first FROM)
    stages: set[str] = set()
    used_args: set[int] = set()  # where each default used so far starts
    seen_from = False

    def add(token: _Token) -> None:
        if not is_templated(token.text):
            found.append(Found(token.text, (Span(token.start, token.end),)))
            return
        use = _ARG_USE.fullmatch(token.text)
        default = args.get((use[1] or use[2]) if use else "")
        if default is None or not default.text or is_templated(default.text):
            found.append(Found(token.text, (Span(token.start, token.end),), unresolved=True))
        elif default.start not in used_args:
            used_args.add(default.start)
            found.append(Found(default.text, (Span(default.start, default.end),)))

    for tokens in _instructions(text):
        keyword, rest = tokens[0].text.upper(), tokens[1:]
        if keyword == "ARG" and not seen_from:
            for token in rest:
                name, equals, value = token.text.partition("=")
                if equals:
                    args[name] = _unquote(_Token(value, token.start + len(name) + 1, token.end))
        elif keyword == "FROM":
            seen_from = True
            _from(rest, stages, add)
        elif keyword == "COPY":
            _copy_from(rest, stages, add)
    return found


def _from(words: list[_Token], stages: set[str], add: Callable[[_Token], None]) -> None:
    """`FROM [--flags] IMAGE [AS NAME]`: IMAGE unless a stage or `scratch`; NAME noted."""
    words = [token for token in words if not token.text.startswith("--")]
    if not words:
        return
    image = words[0].text.lower()
    if image not in stages and image != "scratch":
        add(words[0])
    if len(words) >= 3 and words[1].text.lower() == "as":
        stages.add(words[2].text.lower())


def _copy_from(words: list[_Token], stages: set[str], add: Callable[[_Token], None]) -> None:
    """`COPY --from=IMAGE`: IMAGE unless it names a stage (or a stage's number)."""
    for token in words:
        if not token.text.startswith("--"):
            return
        if token.text.lower().startswith(_FROM_FLAG):
            value = token.text[len(_FROM_FLAG) :]
            if value.lower() not in stages and not value.isdigit():
                add(_unquote(_Token(value, token.start + len(_FROM_FLAG), token.end)))


def _instructions(text: str) -> list[list[_Token]]:
    """The instructions of `text`, each as its words with their offsets."""
    lines = text.splitlines(keepends=True)
    escape = _escape_character(lines)
    instructions: list[list[_Token]] = []
    heredocs: list[tuple[str, bool]] = []  # (end marker, leading tabs stripped)
    current: list[_Token] = []
    offset = 0
    for line in lines:
        base, offset = offset, offset + len(line)
        body = line.rstrip("\r\n")
        if heredocs:
            marker, strip_tabs = heredocs[0]
            if (body.lstrip("\t") if strip_tabs else body) == marker:
                heredocs.pop(0)
            continue
        stripped = body.strip()
        if not stripped or stripped.startswith("#"):
            continue
        content = body.rstrip()
        continued = content.endswith(escape)
        if continued:
            content = content[: -len(escape)]
        current += [
            _Token(m.group(), base + m.start(), base + m.end()) for m in _WORD.finditer(content)
        ]
        if continued or not current:
            continue
        instructions.append(current)
        if current[0].text.upper() in _HEREDOC_KEYWORDS:
            for token in current[1:]:
                heredocs += [(m[3], m[1] == "-") for m in _HEREDOC.finditer(token.text)]
        current = []
    if current:
        instructions.append(current)
    return instructions


def _escape_character(lines: list[str]) -> str:
    """The escape character the parser directives at the top of the file set."""
    escape = "\\"
    for line in lines:
        match = _DIRECTIVE.fullmatch(line.strip())
        if match is None:
            break
        if match[1].lower() == "escape" and match[2] in ("\\", "`"):
            escape = match[2]
    return escape


def _unquote(token: _Token) -> _Token:
    text = token.text
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return _Token(text[1:-1], token.start + 1, token.end - 1)
    return token
