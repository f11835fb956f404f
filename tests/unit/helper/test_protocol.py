"""Docker's credential-helper wire format: what we accept on stdin, the exact messages, and
what we print."""

from __future__ import annotations

import json

import pytest

import credhelper.helper.protocol
from credhelper.errors import CredentialsNotFound, UsageError
from credhelper.helper.protocol import (
    MAX_INPUT,
    NO_SERVER_URL,
    format_list,
    format_version,
    read_server_url,
    read_store,
)

SECRET = "s3cr3t-Pa55w0rd-do-not-print"


def test_the_limit_and_the_not_found_line() -> None:
    assert MAX_INPUT == 64 * 1024
    # The exception's text and the wire line are the same words docker matches on.
    assert credhelper.helper.protocol.NOT_FOUND == CredentialsNotFound.MESSAGE


# -- get and erase: the server URL -------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"public.ecr.aws", "public.ecr.aws"),
        (b"public.ecr.aws\n", "public.ecr.aws"),
        (b"  https://public.ecr.aws/v2/ \r\n", "https://public.ecr.aws/v2/"),
        (b"\tregistry.example:5000\t", "registry.example:5000"),
        ("h\u00f6st.example".encode(), "h\u00f6st.example"),
    ],
)
def test_read_server_url_trims(data: bytes, expected: str) -> None:
    assert read_server_url(data) == expected


@pytest.mark.parametrize("data", [b"", b"\n", b"   \r\n\t "])
def test_read_server_url_empty(data: bytes) -> None:
    with pytest.raises(UsageError) as caught:
        read_server_url(data)
    assert str(caught.value) == "no credentials server URL"
    assert NO_SERVER_URL == "no credentials server URL"
    assert caught.value.exit_code == 2


def test_read_server_url_at_the_limit_and_over_it() -> None:
    assert read_server_url(b"a" * MAX_INPUT) == "a" * MAX_INPUT
    with pytest.raises(UsageError) as caught:
        read_server_url(b"a" * (MAX_INPUT + 1))
    assert str(caught.value) == f"server URL longer than {MAX_INPUT} bytes"


@pytest.mark.parametrize("data", [b"\xff", b"host\xc3", b"\xed\xa0\x80host", b"ho\x80st"])
def test_read_server_url_invalid_utf8(data: bytes) -> None:
    with pytest.raises(UsageError) as caught:
        read_server_url(data)
    assert str(caught.value) == "server URL is not valid UTF-8"


@pytest.mark.parametrize(
    "data",
    [
        b"host\x00.example",
        b"host.example\x00",
        b"host\n.example",
        b"host\r\nX-Injected: 1",
        b"host\x1b[31m",
        b"host\x7f",
        b"ho\x08st",
    ],
)
def test_read_server_url_control_characters(data: bytes) -> None:
    with pytest.raises(UsageError) as caught:
        read_server_url(data)
    assert str(caught.value) == "server URL contains control characters"


# -- store ------------------------------------------------------------------------------------


def store_payload(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_read_store() -> None:
    data = store_payload(ServerURL=" public.ecr.aws\n", Username="AWS", Secret=SECRET)
    assert read_store(data) == ("public.ecr.aws", "AWS", SECRET)


def test_read_store_keeps_secret_and_username_exact() -> None:
    secret = "  pässwörd\nwith 🔑 and spaces  "
    data = store_payload(ServerURL="h.example", Username=" me ", Secret=secret)
    assert read_store(data) == ("h.example", " me ", secret)


def test_read_store_ignores_extra_fields() -> None:
    data = store_payload(ServerURL="h", Username="u", Secret="s", Extra=1)
    assert read_store(data) == ("h", "u", "s")


EXPECTED = 'store expects {"ServerURL": ..., "Username": ..., "Secret": ...} on stdin'


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (store_payload(ServerURL=5, Username="AWS", Secret=SECRET), "ServerURL must be a string"),
        (
            store_payload(ServerURL=None, Username="AWS", Secret=SECRET),
            "ServerURL must be a string",
        ),
        (store_payload(Username="AWS", Secret=SECRET), "ServerURL must be a string"),
        (store_payload(ServerURL="h", Username=7, Secret=SECRET), "Username must be a string"),
        (store_payload(ServerURL="h", Secret=SECRET), "Username must be a string"),
        (store_payload(ServerURL="h", Username="AWS", Secret=[SECRET]), "Secret must be a string"),
        (
            store_payload(ServerURL="h", Username="AWS", Secret={"v": SECRET}),
            "Secret must be a string",
        ),
        (store_payload(ServerURL="h", Username="AWS"), "Secret must be a string"),
        (
            store_payload(ServerURL=[SECRET], Username="AWS", Secret=SECRET),
            "ServerURL must be a string",
        ),
        (f'{{"ServerURL": "h", "Secret": "{SECRET}"'.encode(), "not valid JSON"),
        (f"ServerURL=h Secret={SECRET}".encode(), "not valid JSON"),
        (b"", "not valid JSON"),
        (f'{{"Secret": "{SECRET}\xff"}}'.encode("latin-1"), "not valid JSON"),
        (json.dumps([SECRET]).encode(), "not a JSON object"),
        (json.dumps(SECRET).encode(), "not a JSON object"),
        (b"null", "not a JSON object"),
        (b"42", "not a JSON object"),
    ],
)
def test_read_store_rejects_and_never_echoes_the_secret(data: bytes, reason: str) -> None:
    with pytest.raises(UsageError) as caught:
        read_store(data)
    message = str(caught.value)
    assert message == f"{EXPECTED}: {reason}"
    assert SECRET not in message
    assert "s3cr3t" not in repr(caught.value)
    assert caught.value.exit_code == 2


def test_read_store_too_long_never_echoes_the_secret() -> None:
    data = store_payload(ServerURL="h", Username="AWS", Secret=SECRET * (MAX_INPUT // 10))
    assert len(data) > MAX_INPUT
    with pytest.raises(UsageError) as caught:
        read_store(data)
    assert str(caught.value) == f"store input longer than {MAX_INPUT} bytes"


@pytest.mark.parametrize("server_url", ["", "  ", "\n"])
def test_read_store_empty_server_url(server_url: str) -> None:
    with pytest.raises(UsageError) as caught:
        read_store(store_payload(ServerURL=server_url, Username="AWS", Secret=SECRET))
    assert str(caught.value) == "no credentials server URL"


# -- what we print ----------------------------------------------------------------------------


def test_format_list() -> None:
    known = {"public.ecr.aws": "AWS", "b.example:5000": "me", "a.example": ""}
    out = format_list(known)
    assert out == '{"a.example":"","b.example:5000":"me","public.ecr.aws":"AWS"}\n'
    assert json.loads(out) == known


def test_format_list_empty_and_unusual() -> None:
    assert format_list({}) == "{}\n"
    known = {'we"ird\\host': "ü"}
    assert json.loads(format_list(known)) == known
    assert format_list(known).count("\n") == 1


def test_format_version() -> None:
    assert format_version("1.2.3") == "docker-credential-ecr-sso (ecr-sso) 1.2.3\n"
