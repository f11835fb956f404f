"""`ecr-sso promote`'s argument rules: destinations, `next`, the destination tag."""

from __future__ import annotations

import pytest

from credhelper.errors import UsageError
from credhelper.repos import imageref, promote

ORDER = ["dev", "stage", "prod"]


def test_destinations() -> None:
    assert promote.destinations(["stage,prod"], "dev", [], "c") == ["stage", "prod"]
    assert promote.destinations(["stage", "prod,stage"], "dev", [], "c") == ["stage", "prod"]
    assert promote.destinations(["next"], "dev", ORDER, "c") == ["stage"]
    assert promote.destinations(["next,prod"], "dev", ORDER, "c") == ["stage", "prod"]


@pytest.mark.parametrize(
    ("texts", "source", "order", "message"),
    [
        (["next"], "dev", [], "--to next needs the promotion order in c: [promote] order = ["),
        (["next"], "qa", ORDER, "--to next: 'qa' is not in [promote] order in c"),
        (["next"], "prod", ORDER, "--to next: 'prod' is last in [promote] order in c"),
        (["dev"], "dev", ORDER, "--to names the source profile 'dev'"),
        ([","], "dev", ORDER, "--to names no profile"),
    ],
)
def test_bad_destinations(texts: list[str], source: str, order: list[str], message: str) -> None:
    with pytest.raises(UsageError) as raised:
        promote.destinations(texts, source, order, "c")
    assert str(raised.value).startswith(message)


def test_destination_tag() -> None:
    digest = "sha256:" + "a" * 64
    assert promote.destination_tag(imageref.parse("app:1.4"), None) == "1.4"
    assert promote.destination_tag(imageref.parse("app"), None) == "latest"
    assert promote.destination_tag(imageref.parse("app:1.4"), "rc") == "rc"
    assert promote.destination_tag(imageref.parse(f"app@{digest}"), "rc") == "rc"
    with pytest.raises(UsageError):
        promote.destination_tag(imageref.parse(f"app@{digest}"), None)
