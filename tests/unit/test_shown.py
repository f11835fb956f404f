"""shown(): untrusted text reaches a terminal as one visible line."""

import pytest

from credhelper.shown import has_unsafe, shown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("app:1.4", "app:1.4"),
        ("dir/Dockerfile", "dir/Dockerfile"),
        ("café/ünïcode", "café/ünïcode"),
        ("C:\\plain\\path", "C:\\plain\\path"),
        ("two\nlines", "two\\nlines"),
        ("a\rb\tc", "a\\rb\\tc"),
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("nul\x00", "nul\\x00"),
        ("del\x7f", "del\\x7f"),
        ("c1\x9b2J", "c1\\x9b2J"),
        ("evil\u202etxt.exe", "evil\\u202etxt.exe"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("back\\slash\nnewline", "back\\\\slash\\nnewline"),
    ],
)
def test_shown(text: str, expected: str) -> None:
    assert shown(text) == expected


def test_shown_output_is_one_printable_line() -> None:
    every = "".join(chr(c) for c in range(0x0, 0x250)) + "\u2028\u2029\u202e\u2066\ufeff"
    out = shown(every)
    assert "\n" not in out
    assert not has_unsafe(out)
    assert all(char.isprintable() for char in out)


@pytest.mark.parametrize("text", ["https://x.awsapps.com/start\x1b[2J", "a\x07", "a\x00b"])
def test_has_unsafe(text: str) -> None:
    assert has_unsafe(text)
    assert not has_unsafe("https://x.awsapps.com/start")
