"""`docker buildx bake` files (`docker-bake.hcl`, `docker-bake.json`, their `.override`
twins): what they build and the build contexts they name.

Read with a small tokenizer (strings with `${...}` inside, comments, here-documents), not
an HCL evaluator: a target's attributes are found by name wherever they are written.

- `contexts = { NAME = "VALUE" }`: NAME is a named build context of the Dockerfiles this
  file builds (its folder and below, and those its `dockerfile` attributes name), so
  `FROM NAME` and `COPY --from=NAME` there are no images; a VALUE `docker-image://IMAGE` is
  a reference (kind `bake`), edited in place;
- `tags = ["NAME:TAG", ...]`: images the project builds (`built here`);
- `args = { NAME = "VALUE" }`: build arguments, with the file's `variable` defaults put in,
  which tell what a Dockerfile's `FROM $NAME` pulls when its ARG has no default
  (`${RUNNER_IMAGES_REGISTRY}/runner:…` is another registry: not unresolved).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from credhelper.repos.rewrite.found import Found, Span, is_templated

KIND = "bake"
IMAGE_SCHEME = "docker-image://"
FILE_NAME = re.compile(r"docker-bake(?:\.override)?\.(?:hcl|json)", re.IGNORECASE)

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_]*)\r?\n")
_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_-]*)\}")


@dataclass(frozen=True)
class _Token:
    kind: str  # "ident", "string", or the punctuation character itself
    text: str  # an identifier, a string's value, or the character
    start: int  # a string's value starts after its quote
    end: int
    plain: bool = True  # a string without escapes: its text is exactly what is written


@dataclass
class Bake:
    """What one bake file says."""

    contexts: set[str] = field(default_factory=set)
    tags: list[str] = field(default_factory=list)
    dockerfiles: list[str] = field(default_factory=list)  # relative to the file's folder
    found: list[Found] = field(default_factory=list)
    args: dict[str, list[str]] = field(default_factory=dict)


def read(text: str) -> Bake:
    """The contexts, tags, Dockerfiles and `docker-image://` references of a bake file."""
    tokens = list(_tokens(text))
    bake = Bake()
    contexts: list[str] = []
    for index, token in enumerate(tokens):
        if token.kind not in ("ident", "string") or not _assigned(tokens, index):
            continue
        if token.text == "contexts":
            _read_contexts(tokens, index + 2, bake)
        elif token.text == "args":
            for key, value in _block_pairs(tokens, index + 2):
                bake.args.setdefault(key.text, []).append(value.text)
        elif token.text == "tags":
            bake.tags += [s.text for s in _list_strings(tokens, index + 2)]
        elif token.text == "dockerfile":
            following = tokens[index + 2] if index + 2 < len(tokens) else None
            if following is not None and following.kind == "string":
                bake.dockerfiles.append(following.text)
        elif token.text == "context":
            following = tokens[index + 2] if index + 2 < len(tokens) else None
            if following is not None and following.kind == "string":
                contexts.append(following.text)
    defaults = _variable_defaults(tokens)
    for name, values in bake.args.items():
        bake.args[name] = [_put_in(value, defaults) for value in values]
    # A target's Dockerfile is read from its context: name both ways.
    bake.dockerfiles += [
        posixpath.join(context, dockerfile)
        for context in contexts
        for dockerfile in [*bake.dockerfiles, "Dockerfile"]
        if "://" not in context and not is_templated(context)
    ]
    return bake


def _read_contexts(tokens: list[_Token], start: int, bake: Bake) -> None:
    """The names of a `contexts` block, and its `docker-image://` values."""
    for key, value in _block_pairs(tokens, start):
        bake.contexts.add(key.text.lower())
        if value.text.startswith(IMAGE_SCHEME) and value.plain:
            begin = value.start + len(IMAGE_SCHEME)
            reference = value.text[len(IMAGE_SCHEME) :]
            if reference:
                span = Span(begin, value.end)
                bake.found.append(
                    Found(reference, (span,), KIND, unresolved=is_templated(reference))
                )


def _put_in(value: str, defaults: dict[str, str]) -> str:
    """`value` with each `${VARIABLE}` that has a literal default replaced by it."""
    return _INTERPOLATION.sub(lambda m: defaults.get(m[1], m[0]), value)


def _variable_defaults(tokens: list[_Token]) -> dict[str, str]:
    """The literal defaults of `variable "NAME" { default = "VALUE" }` blocks."""
    defaults = {}
    for index in range(len(tokens) - 2):
        if (tokens[index].kind, tokens[index].text) == ("ident", "variable") and (
            tokens[index + 1].kind == "string"
        ):
            for key, value in _block_pairs(tokens, index + 2):
                if key.text == "default" and not is_templated(value.text):
                    defaults[tokens[index + 1].text] = value.text
    return defaults


def _assigned(tokens: list[_Token], index: int) -> bool:
    return index + 1 < len(tokens) and tokens[index + 1].kind in ("=", ":")


def _block_pairs(tokens: list[_Token], start: int) -> list[tuple[_Token, _Token]]:
    """The `key = "value"` pairs of the first `{...}` block from `start` (a condition
    before it, `X ? {...} : null`, is skipped), at its own level."""
    index = start
    while index < len(tokens) and tokens[index].kind != "{":
        if tokens[index].kind in ("}", "]") or (
            tokens[index].kind == "ident" and _assigned(tokens, index)
        ):
            return []  # the attribute ended without a block
        index += 1
    pairs = []
    depth = 0
    for position in range(index, len(tokens)):
        token = tokens[position]
        if token.kind in ("{", "[", "("):
            depth += 1
        elif token.kind in ("}", "]", ")"):
            depth -= 1
            if depth == 0:
                break
        elif (
            depth == 1
            and token.kind in ("ident", "string")
            and _assigned(tokens, position)
            and position + 2 < len(tokens)
            and tokens[position + 2].kind == "string"
        ):
            pairs.append((token, tokens[position + 2]))
    return pairs


def _list_strings(tokens: list[_Token], start: int) -> list[_Token]:
    """The literal strings of the `[...]` list at `start`, those compared in a condition
    (`X != "mainline" ? ...`) left out."""
    if start >= len(tokens) or tokens[start].kind != "[":
        return []
    strings = []
    for index in range(start + 1, len(tokens)):
        token = tokens[index]
        if token.kind == "]":
            break
        compared = tokens[index - 1].kind == "="
        if token.kind == "string" and token.text and not compared and not is_templated(token.text):
            strings.append(token)
    return strings


def _tokens(text: str) -> list[_Token]:
    tokens = []
    i = 0
    length = len(text)
    while i < length:
        char = text[i]
        if char in " \t\r\n,":
            i += 1
        elif char == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            i = length if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = length if end < 0 else end + 2
        elif char == '"':
            token, i = _string(text, i)
            tokens.append(token)
        elif text.startswith("<<", i) and (heredoc := _HEREDOC.match(text, i)):
            marker = re.compile(rf"^[ \t]*{re.escape(heredoc[1])}[ \t]*\r?$", re.M)
            closing = marker.search(text, heredoc.end())
            i = length if closing is None else closing.end()
        elif ident := _IDENT.match(text, i):
            tokens.append(_Token("ident", ident.group(), ident.start(), ident.end()))
            i = ident.end()
        else:
            tokens.append(_Token(char, char, i, i + 1))
            i += 1
    return tokens


def _string(text: str, start: int) -> tuple[_Token, int]:
    """The string starting at the quote `start`, and where scanning goes on. Escapes
    make it plain=False; `${...}` inside (which may hold quotes) is skipped whole."""
    i = start + 1
    plain = True
    chars: list[str] = []
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            plain = False
            chars.append(text[i + 1])
            i += 2
        elif char in ('"', "\n"):
            return _Token("string", "".join(chars), start + 1, i, plain), i + 1
        elif text.startswith("${", i):
            end = _interpolation_end(text, i + 2)
            chars.append(text[i:end])
            i = end
        else:
            chars.append(char)
            i += 1
    return _Token("string", "".join(chars), start + 1, i, plain), i


def _interpolation_end(text: str, i: int) -> int:
    """Where the `${...}` whose body starts at `i` ends (after its `}`)."""
    depth = 1
    while i < len(text) and depth:
        char = text[i]
        if char == '"':
            _, i = _string(text, i)
            continue
        if char == "\n":
            return i
        depth += {"{": 1, "}": -1}.get(char, 0)
        i += 1
    return i
