"""Reading who holds the other end of a loopback connection from /proc/net/tcp-format
tables (the parsing; a real connection's owner is checked in
tests/integration/test_loopback_callback.py)."""

from __future__ import annotations

import sys

import pytest

from credhelper.sso.peer import live_owners

HEADER = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid"
    "  timeout inode\n"
)


def entry(local: str, remote: str, uid: int, inode: int, state: str = "01") -> str:
    return (
        f"   1: {local} {remote} {state} 00000000:00000000 00:00000000 00000000"
        f" {uid:5d}        0 {inode} 1 0000000000000000 20 4 30 10 -1\n"
    )


# 127.0.0.1 as the kernel prints it on a little-endian machine (a native-endian word).
LOOP = "0100007F" if sys.byteorder == "little" else "7F000001"
CLIENT, SERVER = f"{LOOP}:D431", f"{LOOP}:A0F2"


def test_the_entry_whose_local_end_is_theirs_names_its_owner() -> None:
    table = HEADER + entry(SERVER, CLIENT, 0, 111) + entry(CLIENT, SERVER, 1001, 222)
    assert live_owners(table, CLIENT, SERVER) == [1001]
    assert live_owners(table, SERVER, CLIENT) == [0], "the mirror entry is our own socket"


def test_a_socket_no_process_holds_has_no_owner() -> None:
    """A closed connection lingers (FIN_WAIT, TIME_WAIT) with inode 0 and uid 0: it must
    not pass for root's."""
    table = HEADER + entry(CLIENT, SERVER, 0, 0, state="06")
    assert live_owners(table, CLIENT, SERVER) == []


@pytest.mark.parametrize(
    "text",
    ["", HEADER, HEADER + "garbage\n", HEADER + entry(CLIENT, SERVER, 5, 9).replace(" 9 ", " x ")],
)
def test_an_odd_table_names_nobody(text: str) -> None:
    assert live_owners(text, CLIENT, SERVER) == []
