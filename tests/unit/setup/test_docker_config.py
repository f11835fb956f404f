"""Docker's config.json editor: keys keep their order, the layout is the file's own, and
a malformed file is named with its line."""

from __future__ import annotations

import json
from pathlib import Path

import docker.auth
import pytest
from setup_fixtures import GOLDEN

from credhelper.errors import MalformedFile
from credhelper.setup import docker_config

PATH = "/home/u/.docker/config.json"
DESKTOP = (GOLDEN / "docker" / "docker-desktop.json").read_bytes()
SPACES = (GOLDEN / "docker" / "four-spaces.json").read_bytes()


def test_render_unchanged_data_is_the_same_bytes() -> None:
    # Layouts docker and people write: tabs without a final newline, four spaces with one.
    for original in (DESKTOP, SPACES):
        config = docker_config.parse(PATH, original)
        assert config.render(config.data) == original


def test_layout_detection() -> None:
    assert docker_config.parse(PATH, DESKTOP).indent == "\t"
    assert docker_config.parse(PATH, DESKTOP).trailing_newline is False
    assert docker_config.parse(PATH, SPACES).indent == "    "
    one_line = docker_config.parse(PATH, b'{"auths": {}}')
    assert one_line.indent is None
    # A new file is written as the docker CLI writes one: tab-indented.
    new = docker_config.parse(PATH, None)
    assert new.render({"credHelpers": {"h": "ecr-sso"}}) == (
        b'{\n\t"credHelpers": {\n\t\t"h": "ecr-sso"\n\t}\n}\n'
    )


def test_order_is_kept_and_new_keys_go_last() -> None:
    config = docker_config.parse(PATH, DESKTOP)
    data = dict(config.data)
    data["credHelpers"] = {"h": "ecr-sso"}
    rendered = json.loads(config.render(data))
    assert list(rendered) == [
        "auths",
        "credsStore",
        "currentContext",
        "plugins",
        "features",
        "credHelpers",
    ]


def test_empty_file_is_an_empty_config() -> None:
    assert docker_config.parse(PATH, b"").data == {}
    assert docker_config.parse(PATH, b"\n  \n").data == {}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{\n  "auths": {},\n  "credHelpers": {"a": "b",}\n}', ", line 3 column 28: Docker's"),
        (b"[1, 2]", ": Docker's config must be a JSON object"),
        (b'{"credHelpers": ["a"]}', ": credHelpers must map registry hosts to helper names"),
        (b'{"credHelpers": {"a": 1}}', ": credHelpers must map registry hosts to helper names"),
        (b'{"auths": []}', ": auths must be a JSON object"),
        (b'{"a": "\xff"}', ": Docker's config is not valid UTF-8"),
    ],
)
def test_malformed(data: bytes, expected: str) -> None:
    with pytest.raises(MalformedFile) as caught:
        docker_config.parse(PATH, data)
    assert str(caught.value).startswith(PATH + expected)
    assert caught.value.exit_code == 2


def test_auths_for_matches_every_spelling_docker_accepts() -> None:
    config = docker_config.parse(
        PATH,
        json.dumps(
            {
                "auths": {
                    "https://642976147714.dkr.ecr.eu-west-1.amazonaws.com": {"auth": "x"},
                    "642976147714.dkr.ecr.eu-west-1.amazonaws.com/v1/": {},
                    "registry.example.internal:5000": {"auth": "y"},
                    "registry.example.internal": {"auth": "z"},
                    "https://index.docker.io/v1/": {"auth": "w"},
                }
            }
        ).encode(),
    )
    assert config.auths_for(
        ["642976147714.dkr.ecr.eu-west-1.amazonaws.com", "registry.example.internal:5000"]
    ) == [
        "https://642976147714.dkr.ecr.eu-west-1.amazonaws.com",
        "642976147714.dkr.ecr.eu-west-1.amazonaws.com/v1/",
        "registry.example.internal:5000",
    ]


def test_redact_hides_every_secret_value() -> None:
    text = (
        '{"auths": {"h": {"auth": "QVdTOnB3", "identitytoken": "t\\"x", "Password": "p",'
        ' "registrytoken": "r", "username": "AWS"}}}'
    )
    redacted = docker_config.redact(text)
    assert redacted == (
        '{"auths": {"h": {"auth": "<redacted>", "identitytoken": "<redacted>",'
        ' "Password": "<redacted>", "registrytoken": "<redacted>", "username": "AWS"}}}'
    )
    json.loads(redacted)


def test_docker_py_reads_what_we_render(tmp_path: Path) -> None:
    config = docker_config.parse(PATH, SPACES)
    data = dict(config.data)
    data["credHelpers"] = {**config.cred_helpers, "h.example": "ecr-sso"}
    path = tmp_path / "config.json"
    path.write_bytes(config.render(data))
    loaded = docker.auth.load_config(config_path=str(path))
    assert loaded.cred_helpers == {
        "gcr.io": "gcloud",
        "europe-docker.pkg.dev": "gcloud",
        "h.example": "ecr-sso",
    }


# -- what would not survive a read and a write is refused, or kept as written --------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"auths": {"a": {}}, "auths": {"b": {}}}',
            'key "auths" appears twice. Docker reads both, ecr-sso would keep only the last',
        ),
        (
            '{"proxies": {"default": {"httpProxy": "x", "httpProxy": "y"}}}',
            'key "proxies"."default"."httpProxy" appears twice',
        ),
        ('{"x": [{"k": 1, "k": 2}]}', 'key "x"[0]."k" appears twice'),
        ('{"detachKeys": "\\ud800"}', 'the value of "detachKeys" holds a lone surrogate escape'),
        ('{"a": {"\\udfff": 1}}', 'a key in "a" holds a lone surrogate escape'),
    ],
)
def test_what_docker_reads_differently_is_refused(text: str, message: str) -> None:
    with pytest.raises(MalformedFile) as caught:
        docker_config.parse(PATH, text.encode())
    assert str(caught.value).startswith(f"{PATH}: {message}")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"credHelpers": {"h": "ecr-sso"}, "CredHelpers": {"h": "desktop"}}',
            'keys "credHelpers" and "CredHelpers" are one key to docker (Go matches keys'
            " case-insensitively): it reads both, ecr-sso would see one, so it will not"
            ' rewrite this file; merge them into "credHelpers", then run this again',
        ),
        (
            '{"AUTHS": {"h": {"auth": "c2VjcmV0"}}}',
            'key "AUTHS" is "auths" to docker (Go matches keys case-insensitively), but not'
            ' to ecr-sso, which edits "auths"; rename it "auths", then run this again',
        ),
        (
            '{"credsStore": "desktop", "credsstore": "pass"}',
            'keys "credsStore" and "credsstore" are one key to docker',
        ),
        # Go folds the long s (U+017F) to s (and the Kelvin sign to k), nothing else: "ß"
        # is not "ss" to it, as it is to Python's casefold.
        ('{"credHelper\u017f": {}}', 'key "credHelper\\u017f" is "credHelpers" to docker'),
        ('{"auths": {}, "auth\u017f": {}}', 'keys "auths" and "auth\\u017f" are one key'),
        ('{"credsStore": "a", "cred\u00dftore": "b"}', None),
        ('{"credHelpers": {}, "credHeIpers": {}}', None),
    ],
)
def test_case_variants_of_our_keys_are_refused(text: str, message: str | None) -> None:
    """Go's encoding/json gives a key to a struct field whatever its case, so docker reads
    `CredHelpers` as `credHelpers` (a map: both blocks merged, the later winning)."""
    if message is None:  # not one of our keys to Go either
        assert docker_config.parse(PATH, text.encode()).data == json.loads(text)
        return
    with pytest.raises(MalformedFile) as caught:
        docker_config.parse(PATH, text.encode())
    assert str(caught.value).startswith(f"{PATH}: {message}")


def test_a_lone_case_variant_of_a_key_we_do_not_edit_is_kept() -> None:
    text = '{"CredsStore": "desktop", "HttpHeaders": {"X": "y"}}'
    assert docker_config.parse(PATH, text.encode()).data == json.loads(text)


@pytest.mark.parametrize(("constant", "line"), [("NaN", 2), ("Infinity", 3), ("-Infinity", 2)])
def test_nan_and_infinity_are_not_json(constant: str, line: int) -> None:
    text = (
        '{\n\t"a": 1,\n\t"b": X\n}'.replace("X", constant)
        if line == 3
        else ('{\n\t"a": X\n}'.replace("X", constant))
    )
    with pytest.raises(MalformedFile) as caught:
        docker_config.parse(PATH, text.encode())
    assert str(caught.value) == (
        f"{PATH}, line {line}: Docker's config is not valid JSON: {constant} is not a JSON"
        " number, and docker refuses it"
    )


def test_numbers_keep_their_text() -> None:
    numbers = ["1e999", "1.50", "-0", "1E5", "0.1000000000000000055511151231257827", "7" * 5000]
    text = "{\n\t" + ",\n\t".join(f'"n{i}": {n}' for i, n in enumerate(numbers)) + "\n}\n"
    config = docker_config.parse(PATH, text.encode())
    data = dict(config.data)
    data["credHelpers"] = {"h": "ecr-sso"}

    written = config.render(data).decode()

    assert written == text.replace("\n}\n", ',\n\t"credHelpers": {\n\t\t"h": "ecr-sso"\n\t}\n}\n')
    assert config.render(config.data) == text.encode()


def test_nesting_too_deep_to_edit_is_refused() -> None:
    text = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(MalformedFile) as caught:
        docker_config.parse(PATH, text.encode())
    assert str(caught.value) == (
        f"{PATH}: Docker's config is nested too deeply for ecr-sso to edit it safely"
    )
