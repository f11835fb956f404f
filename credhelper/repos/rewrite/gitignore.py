"""A plain `.gitignore` reader, for folders git does not list (no git, not a work tree).

It knows what most `.gitignore` files use: comments, `!` negation, a trailing `/` for
folders, a leading or inner `/` to anchor at the file's folder, `*`, `?`, `[...]` (with
`!`/`^` negation and ranges) and `**`. It does not read `.git/info/exclude` or the global
excludes file: only git does that.

The patterns come from the repository, so matching must stay fast whatever they say: a
path is matched one `/`-separated segment at a time, `**` over segments and `*` within one,
each by the greedy algorithm that backtracks only to the last star (time bounded by the
product of the lengths, never exponential as a translated regular expression can be with
`**/**/**/…` or `*a*a*a*…`). A range written backwards (`[z-a]`) matches only its first
character, as in git.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: A `.gitignore` larger than this is not one a person wrote; it is not read.
MAX_BYTES = 1 << 20


class _Star:
    """`*` in a segment: any run of characters (a sentinel, so that an escaped `\\*` stays
    a literal star)."""

    def __repr__(self) -> str:
        return "*"


_STAR = _Star()
_ANY_SEGMENTS = "**"


@dataclass(frozen=True)
class _Class:
    """A `[...]` bracket: single characters and ranges, maybe negated."""

    chars: frozenset[str]
    ranges: tuple[tuple[str, str], ...]
    negated: bool

    def __call__(self, char: str) -> bool:
        inside = char in self.chars or any(low <= char <= high for low, high in self.ranges)
        return inside != self.negated


# A segment pattern: literal characters, `?` (any one character), _Class, or _STAR.
_Token = str | _Class | _Star
_NEVER: tuple[_Token, ...] = ("\0never",)  # a NUL never appears in a path


class _Segment:
    """One `/`-separated part of a pattern, ready to match a path's part: by equality when
    it is literal, by a regular expression when it has at most two stars (then it cannot
    backtrack far), else by the greedy matcher."""

    def __init__(self, tokens: tuple[_Token, ...]) -> None:
        self.tokens = tokens
        self.literal: str | None = None
        self.regex: re.Pattern[str] | None = None
        if all(isinstance(t, str) for t in tokens):
            self.literal = "".join(str(t) for t in tokens)
        elif sum(t is _STAR for t in tokens) <= 2:
            self.regex = re.compile("".join(_regex(t) for t in tokens), re.DOTALL)

    def __call__(self, segment: str) -> bool:
        if self.literal is not None:
            return segment == self.literal
        if self.regex is not None:
            return self.regex.fullmatch(segment) is not None
        return _greedy(self.tokens, segment, star=_STAR, one=_match_char)


def _regex(token: _Token) -> str:
    if token is _STAR:
        return ".*"
    if isinstance(token, _Class):
        if not token.chars and not token.ranges:
            return "[^/]" if token.negated else "(?!)"
        ranges = "".join(f"{re.escape(low)}-{re.escape(high)}" for low, high in token.ranges)
        chars = "".join(re.escape(char) for char in sorted(token.chars))
        return f"[{'^' if token.negated else ''}{chars}{ranges}]"
    return re.escape(str(token))


@dataclass(frozen=True)
class Rule:
    """One pattern of a `.gitignore` in folder `base` (relative to the walk's root, "" for
    the root itself)."""

    base: str
    segments: tuple[_Segment | str, ...]  # each a segment's matcher or _ANY_SEGMENTS
    negated: bool
    folders_only: bool


def parse(text: str, base: str) -> list[Rule]:
    """The rules of a `.gitignore` whose folder is `base`."""
    rules = []
    for line in text.splitlines():
        pattern = _strip_trailing_spaces(line)
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern[1:] if negated else pattern
        if pattern.startswith("\\"):
            pattern = pattern[1:] if pattern[1:2] in ("#", "!") else pattern
        folders_only = pattern.endswith("/")
        pattern = pattern.rstrip("/")
        if not pattern:
            continue
        anchored = "/" in pattern
        parts = [part for part in pattern.lstrip("/").split("/") if part]
        if not anchored:
            parts = [_ANY_SEGMENTS, *parts]
        rules.append(Rule(base, _segments(parts), negated, folders_only))
    return rules


def _strip_trailing_spaces(line: str) -> str:
    """Trailing spaces go unless escaped with a backslash (git's rule)."""
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        return stripped[:-1] + " "
    return stripped


def _segments(parts: Sequence[str]) -> tuple[_Segment | str, ...]:
    out: list[_Segment | str] = []
    for index, part in enumerate(parts):
        if part == _ANY_SEGMENTS:
            if out and out[-1] == _ANY_SEGMENTS:
                continue  # `**/**/` is `**/`: repeating it adds only work
            if index == len(parts) - 1 and index > 0:
                # A trailing `/**` matches everything inside, not the folder itself.
                out += [_Segment((_STAR,)), _ANY_SEGMENTS]
                continue
            out.append(_ANY_SEGMENTS)
        else:
            out.append(_Segment(_tokens(part)))
    return tuple(out)


def _tokens(segment: str) -> tuple[_Token, ...]:
    tokens: list[_Token] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            if not tokens or tokens[-1] is not _STAR:
                tokens.append(_STAR)  # `**` inside a segment is a plain `*`
            i += 1
        elif char == "?":
            tokens.append(_Class(frozenset("/"), (), negated=True))
            i += 1
        elif char == "[":
            bracket, i = _bracket(segment, i)
            if bracket is None:
                return _NEVER  # an unclosed bracket: git's matcher gives up on the pattern
            tokens.append(bracket)
        elif char == "\\" and i + 1 < len(segment):
            tokens.append(segment[i + 1])
            i += 2
        else:
            tokens.append(char)
            i += 1
    return tuple(tokens)


def _bracket(segment: str, start: int) -> tuple[_Class | None, int]:
    """The bracket expression at `start` and where it ends; None when it is not closed."""
    i = start + 1
    negated = i < len(segment) and segment[i] in "!^"
    i += negated
    chars: set[str] = set()
    ranges: list[tuple[str, str]] = []
    first = True
    while i < len(segment):
        char = segment[i]
        if char == "]" and not first:
            return _Class(frozenset(chars), tuple(ranges), negated), i + 1
        first = False
        if char == "\\" and i + 1 < len(segment):
            char = segment[i + 1]
            i += 1
        if i + 2 < len(segment) and segment[i + 1] == "-" and segment[i + 2] != "]":
            high = segment[i + 2]
            if high == "\\" and i + 3 < len(segment):
                high = segment[i + 3]
                i += 1
            chars.add(char)  # git's matcher tests the first end on its own first
            if char <= high:
                ranges.append((char, high))
            i += 3
            continue
        chars.add(char)
        i += 1
    return None, i


def ignored(rules: Sequence[Rule], path: str, *, folder: bool) -> bool:
    """Whether `path` (relative to the walk's root, `/`-separated) is ignored: the last
    rule that matches decides."""
    rule = deciding(rules, path, folder=folder)
    return rule is not None and not rule.negated


def deciding(rules: Sequence[Rule], path: str, *, folder: bool) -> Rule | None:
    """The last rule of `rules` that matches `path`, or None."""
    for rule in reversed(rules):
        if rule.folders_only and not folder:
            continue
        if rule.base:
            if not path.startswith(rule.base + "/"):
                continue
            relative = path[len(rule.base) + 1 :]
        else:
            relative = path
        if _match_path(rule.segments, relative.split("/")):
            return rule
    return None


def _match_path(pattern: tuple[_Segment | str, ...], segments: list[str]) -> bool:
    if len(pattern) == 2 and pattern[0] is _ANY_SEGMENTS and isinstance(pattern[1], _Segment):
        return pattern[1](segments[-1])  # `name`: the last part, at any depth
    if _ANY_SEGMENTS not in pattern:
        return len(pattern) == len(segments) and all(
            isinstance(p, _Segment) and p(s) for p, s in zip(pattern, segments, strict=True)
        )
    return _greedy(pattern, segments, star=_ANY_SEGMENTS, one=_match_segment)


def _match_segment(pattern: object, segment: str) -> bool:
    return isinstance(pattern, _Segment) and pattern(segment)


def _match_char(token: object, char: str) -> bool:
    return token(char) if isinstance(token, _Class) else token == char


def pieces_match(pieces: Sequence[str], text: str) -> bool:
    """Whether `text` is `pieces` with anything between each two (as a glob `a*b*c`), in
    time bounded by their lengths' product whatever they hold."""
    tokens: list[object] = []
    for index, piece in enumerate(pieces):
        if index:
            tokens.append(_STAR)
        tokens += list(piece)
    return _greedy(tokens, text, star=_STAR, one=_match_char)


def _greedy(
    pattern: Sequence[object],
    subject: Sequence[str],
    *,
    star: object,
    one: Callable[[object, str], bool],
) -> bool:
    """Whether `pattern` matches all of `subject`, where `star` matches any run of items
    and every other token matches one item by `one`. Backtracks only to the last star:
    O(len(pattern) * len(subject))."""
    p = s = 0
    star_p, star_s = -1, 0
    while s < len(subject):
        if p < len(pattern) and pattern[p] is star:
            star_p, star_s = p, s
            p += 1
        elif p < len(pattern) and one(pattern[p], subject[s]):
            p += 1
            s += 1
        elif star_p >= 0:
            star_s += 1
            p, s = star_p + 1, star_s
        else:
            return False
    while p < len(pattern) and pattern[p] is star:
        p += 1
    return p == len(pattern)
