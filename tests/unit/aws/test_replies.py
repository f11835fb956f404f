"""The checks of AWS replies, on raw bytes: what passes, and the one line for the rest."""

from __future__ import annotations

import base64
import json
import time

import pytest

from credhelper.aws import replies

ECR = "ECR GetAuthorizationToken"
WHERE = f"{ECR} at https://api.ecr.eu-west-1.amazonaws.com"
JSON = {"content-type": "application/x-amz-json-1.1"}


def ecr_body(**entry: object) -> bytes:
    good: dict[str, object] = {
        "authorizationToken": base64.b64encode(b"AWS:secret").decode(),
        "expiresAt": time.time() + 12 * 3600,
    }
    good.update(entry)
    return json.dumps({"authorizationData": [good]}).encode()


def check(body: bytes, headers: dict[str, str] | None = None, status: int = 200) -> None:
    replies.check_raw(ECR, WHERE.split(" at ")[1], status, headers or JSON, body)


def problem(body: bytes, headers: dict[str, str] | None = None, status: int = 200) -> str:
    with pytest.raises(replies.BadReply) as raised:
        check(body, headers, status)
    text = str(raised.value)
    assert "\n" not in text
    assert "secret" not in text
    return text.removeprefix(WHERE + " ")


def test_a_good_reply_passes() -> None:
    check(ecr_body())


@pytest.mark.parametrize(
    ("body", "headers", "status", "expected"),
    [
        (b"<html>login</html>", {"content-type": "text/html"}, 200, "answered with an HTML page"),
        (b"<html>moved</html>", {}, 302, "answered HTTP 302 with an HTML page"),
        (b"", {"location": "http://portal"}, 307, "answered HTTP 307 (a redirect): a proxy"),
        (b"\xff\xfe", JSON, 200, "answered with bytes that are not UTF-8 text"),
        (b'{"authorizationData": [', JSON, 200, "answered with a body that is not JSON"),
        (b"[]", JSON, 200, "answered with JSON that is not an object"),
        (b"{}", JSON, 200, "answered without authorizationData"),
        (b'{"authorizationData": []}', JSON, 200, "answered with an empty authorizationData"),
        (ecr_body(), {"content-type": "text/plain"}, 200, "answered with content type"),
        (ecr_body(), {**JSON, "content-length": "9999"}, 200, "answered with a cut-off body"),
    ],
    # Ids from what is expected: a body holds the time, and xdist's workers must agree.
    ids=lambda value: value if isinstance(value, str) else type(value).__name__,
)
def test_what_came_back_is_named(
    body: bytes, headers: dict[str, str], status: int, expected: str
) -> None:
    assert problem(body, headers, status).startswith(expected)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            {"authorizationToken": "@@@"},
            "with an authorizationToken that is not base64 of user:password",
        ),
        (
            {"authorizationToken": base64.b64encode(b"no-colon").decode()},
            "with an authorizationToken that is not base64 of user:password",
        ),
        (
            {"authorizationToken": base64.b64encode(b"AWS:").decode()},
            "with an authorizationToken that is not base64 of user:password",
        ),
        (
            {"authorizationToken": base64.b64encode(b"\xff:\xfe").decode()},
            "with an authorizationToken that is not base64 of user:password",
        ),
        ({"expiresAt": None}, "with a token whose expiresAt is not a sane time"),
        ({"expiresAt": "tomorrow"}, "with a token whose expiresAt is not a sane time"),
        ({"expiresAt": 4102444800000}, "with a token whose expiresAt is not a sane time"),
    ],
)
def test_a_wrong_token_is_named(entry: dict[str, object], expected: str) -> None:
    assert problem(ecr_body(**entry)) == "answered " + expected


def test_aws_error_answers_are_left_to_botocore() -> None:
    check(b'{"__type": "AccessDeniedException", "message": "no"}', JSON, 400)
    check(b"<html>Service Unavailable</html>", {"content-type": "text/html"}, 503)


def test_decode_token() -> None:
    assert replies.decode_token(base64.b64encode(b"AWS:pa:ss").decode()) == ("AWS", "pa:ss")
    assert replies.decode_token(42) is None


def test_a_past_expiry_is_sane_a_far_one_is_not() -> None:
    now = 1_800_000_000.0
    assert replies.sane_expiry(now - 3600, now)
    assert not replies.sane_expiry(now + 10 * 365 * 86400, now)
    assert not replies.sane_expiry(float("nan"), now)
    assert not replies.sane_expiry(True, now)


def test_a_reply_botocore_cannot_read_is_named() -> None:
    from botocore.parsers import ResponseParserError

    with pytest.raises(replies.BadReply) as raised, replies.translated():
        raise ResponseParserError("Unknown tag")

    assert str(raised.value).endswith(
        "answered with a reply that cannot be read (ResponseParserError)"
    )


def test_our_bugs_are_not_taken_for_bad_replies() -> None:
    with pytest.raises(KeyError), replies.translated():
        raise KeyError("ours")
