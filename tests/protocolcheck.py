"""What a credential-helper answer must look like, checked the same way in every test."""

from __future__ import annotations

import json
import subprocess


def answer(result: subprocess.CompletedProcess[bytes]) -> dict[str, str]:
    """A successful `get`: exit 0, nothing on stderr, exactly one JSON line on stdout."""
    assert result.returncode == 0, result.stdout.decode()
    assert result.stderr == b""
    assert result.stdout.count(b"\n") == 1, result.stdout
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def error_line(result: subprocess.CompletedProcess[bytes]) -> str:
    """A failure: exit 1, nothing on stderr (let alone a traceback), one line on stdout."""
    assert result.returncode == 1
    assert result.stderr == b"", "nothing may go to stderr, let alone a traceback"
    text = result.stdout.decode()
    assert text.endswith("\n")
    assert text.count("\n") == 1, text
    assert "Traceback" not in text
    return text.strip()


def silent_success(result: subprocess.CompletedProcess[bytes]) -> None:
    """`store` and `erase` succeed with no output at all."""
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b""), result.stdout
