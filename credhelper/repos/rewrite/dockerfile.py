"""Image references in a Dockerfile or Containerfile, read the way BuildKit reads one.

- `# syntax=IMAGE` (a parser directive): BuildKit pulls that frontend, from Docker Hub
  unless it names another registry;
- `FROM [--platform=P] IMAGE [AS NAME]`: IMAGE, unless it is `scratch`, an earlier stage,
  or a named build context (`contexts`: from bake or compose);
- `COPY --from=IMAGE` and `RUN --mount=...,from=IMAGE`: IMAGE, unless it names a stage
  (any stage of the file, by name or number) or a named build context;
- a reference that is a variable (`$BASE`, `${BASE}:tag`) is followed to its global
  `ARG BASE=DEFAULT` (before the first FROM) and edited there, unless the default names a
  stage; one whose name is fixed and only its tag is a variable (`golang:${GO}-alpine`)
  has its name edited; a name built from variables that matches a stage
  (`binaries-$TARGETOS`) is a stage; anything else built from variables is unresolved.

An instruction continues over lines ending in the escape character (`\\`, or the one a
`# escape=` directive names); comment and blank lines inside it are skipped, as Docker
does. Here-documents (`RUN <<EOF`) are skipped to their end marker. Pure: text in, spans out.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from credhelper.repos.rewrite import gitignore
from credhelper.repos.rewrite.found import WHOLE, Found, Span, Variable, expand, is_templated
from credhelper.repos.rewrite.resolve import Definition, references

KIND = "dockerfile"
SYNTAX_KIND = "syntax-directive"

_DIRECTIVE = re.compile(r"#[ \t]*([A-Za-z]+)[ \t]*=[ \t]*(\S+)[ \t]*")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")
_WORD = re.compile(r"\S+")
_FROM_FLAG = "--from="
_MOUNT_FLAG = "--mount="


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int


def scan(
    text: str,
    contexts: Collection[str] = (),
    build_args: Mapping[str, Sequence[str]] | None = None,
) -> list[Found]:
    """Every image reference in the Dockerfile `text`, in order. `contexts` are the names
    of the build contexts a bake or compose file gives its build, `build_args` the values
    they pass its ARGs (which only tell where an image comes from: they are not edited
    from here)."""
    instructions = _instructions(text)
    scanner = _Scanner({name.lower() for name in contexts}, _stages(instructions))
    scanner.build_args = build_args or {}
    scanner.found += _syntax(text)
    for tokens in instructions:
        scanner.instruction(tokens[0].text.upper(), tokens[1:])
    found = scanner.found
    return sorted({item.spans: item for item in found}.values(), key=lambda item: item.start)


class _Scanner:
    def __init__(self, contexts: set[str], stages: set[str]) -> None:
        self.contexts = contexts
        self.stages = stages  # every stage of the file
        self.earlier: set[str] = set()  # the stages before the current FROM
        self.args: dict[str, _Token] = {}  # global ARG defaults (before the first FROM)
        self.declared: dict[str, int] = {}  # where each global ARG is declared
        self.build_args: Mapping[str, Sequence[str]] = {}
        self.seen_from = False
        self.found: list[Found] = []

    def instruction(self, keyword: str, rest: list[_Token]) -> None:
        if keyword == "ARG" and not self.seen_from:
            for token in rest:
                name, equals, value = token.text.partition("=")
                self.declared.setdefault(name, token.start)
                if equals:
                    start = token.start + len(name) + 1
                    self.args[name] = _unquote(_Token(value, start, token.end))
        elif keyword == "FROM":
            self.seen_from = True
            words = [token for token in rest if not token.text.startswith("--")]
            if words and words[0].text.lower() != "scratch":
                self.add(words[0], self.earlier)
            if len(words) >= 3 and words[1].text.lower() == "as":
                self.earlier.add(words[2].text.lower())
        elif keyword == "COPY":
            for token in _flag_values(rest, _FROM_FLAG):
                self.add(token, self.stages)
        elif keyword == "RUN":
            for mount in _flag_values(rest, _MOUNT_FLAG):
                source = _mount_from(mount)
                if source is not None:
                    self.add(source, self.stages)

    def add(self, token: _Token, stages: set[str]) -> None:
        """`token` names an image unless it names one of `stages` (or a stage's number), a
        build context, or, once its variables are put in, one of those."""
        not_images = stages | self.contexts
        if token.text.isdigit() or token.text.lower() in not_images:
            return
        if _is_stage(token.text, self.args, not_images):
            return
        span = Span(token.start, token.end)
        for item in references(token.text, span, KIND, self.lookup):
            # An ARG default that names a stage (`ARG BASE=builder`), or `scratch`, is no
            # image either.
            named = item.text.lower() in self.stages | self.contexts | {"scratch"}
            if not (named and item.form == WHOLE and not item.unresolved):
                self.found.append(item)

    def lookup(self, variable: Variable) -> list[Definition]:
        if variable.syntax != "shell":
            return []
        definitions = []
        default = self.args.get(variable.name)
        if default is not None and default.text:
            definitions.append(Definition(default.text, Span(default.start, default.end)))
        at = self.declared.get(variable.name, 0)
        definitions += [Definition(v, None, at) for v in self.build_args.get(variable.name, [])]
        return definitions


def _syntax(text: str) -> list[Found]:
    """The `# syntax=IMAGE` directive among the parser directives at the top."""
    offset = 0
    for line in text.splitlines(keepends=True):
        match = _DIRECTIVE.fullmatch(line.rstrip("\r\n"))
        if match is None:
            break
        if match[1].lower() == "syntax":
            span = Span(offset + match.start(2), offset + match.end(2))
            return [Found(match[2], (span,), SYNTAX_KIND)]
        offset += len(line)
    return []


def _stages(instructions: list[list[_Token]]) -> set[str]:
    """The lower-case name of every named stage."""
    stages = set()
    for tokens in instructions:
        if tokens[0].text.upper() != "FROM":
            continue
        words = [token for token in tokens[1:] if not token.text.startswith("--")]
        if len(words) >= 3 and words[1].text.lower() == "as":
            stages.add(words[2].text.lower())
    return stages


def _is_stage(text: str, args: dict[str, _Token], stages: set[str]) -> bool:
    """Whether a name built from variables is one of `stages`: once the global ARG
    defaults are put in, or, for variables BuildKit sets (`$TARGETOS`), for some value."""
    if not is_templated(text):
        return False
    values = {name: token.text for name, token in args.items()}
    for _ in range(8):  # defaults made of defaults (`ARG B=$A`), a few levels deep
        partial = _VARIABLE.sub(lambda m: values.get(m[0].strip("${}"), m[0]), text)
        if partial == text:
            break
        text = partial
    expanded = expand(text, {})
    if expanded is not None:
        return expanded.lower() in stages
    parts = _VARIABLE.split(text.lower())
    if not any(parts):
        return False  # only variables: it could be anything
    return any(gitignore.pieces_match(parts, stage) for stage in stages)


def _flag_values(words: list[_Token], flag: str) -> list[_Token]:
    """The values of `--flag=VALUE` among the flags that start an instruction."""
    values = []
    for token in words:
        if not token.text.startswith("--"):
            break
        if token.text.lower().startswith(flag):
            values.append(
                _unquote(_Token(token.text[len(flag) :], token.start + len(flag), token.end))
            )
    return values


def _mount_from(mount: _Token) -> _Token | None:
    """The `from=` field of a `--mount` value (comma-separated `key=value` fields)."""
    offset = mount.start
    for field in mount.text.split(","):
        key, equals, value = field.partition("=")
        if equals and key.strip().lower() == "from" and value:
            start = offset + len(key) + 1
            return _unquote(_Token(value, start, start + len(value)))
        offset += len(field) + 1
    return None


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
