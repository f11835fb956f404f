"""Untrusted text made safe to put in front of a person: a terminal line, a `--check` line,
an error message.

Text that comes from outside (a registry's tag list, a file name in a repository, a team
file's value) can carry escape sequences that move the cursor, rewrite the title bar or hide
what follows, and newlines that forge a second line of output. `shown` turns every such
character into a visible escape, so what is printed is exactly one line and means what it
says.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, the no-break space and soft hyphen (which pass for a
# space and nothing), and the Unicode format characters that reorder or hide text
# (bidirectional overrides and isolates, zero-width characters, the BOM, line/paragraph
# separators).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\xa0\xad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: str) -> str:
    """`text` with every control or hiding character written as a visible escape (`\\n`,
    `\\x1b`, `\\u202e`); plain text, including any other non-ASCII letter, is unchanged.
    Backslashes are doubled only when something was escaped, so ordinary paths and
    references read as they are."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text.replace("\\", "\\\\"))


def has_unsafe(text: str) -> bool:
    """True when `text` holds a character `shown` would escape (for refusing such a value
    where it must be taken literally, e.g. a URL from a team file)."""
    return _UNSAFE.search(text) is not None
