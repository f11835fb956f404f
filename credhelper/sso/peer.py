"""Which local user opened a TCP connection to one of our loopback listeners.

On Linux the kernel lists every TCP socket of the network namespace in /proc/net/tcp and
/proc/net/tcp6: its two ends, the user that created it, and its inode (0 once no process
holds it any more). Every user can read these tables, and no user can make an entry carry
another user's uid. So, unlike anything a request carries, the owner of the other end of a
connection is something another local user can neither see in advance nor forge.

Other systems (macOS, the BSDs) keep no such table readable by a user; there the owner is
unknown and the caller decides on what the request carries alone.
"""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass
from pathlib import Path

_TABLES = ("tcp", "tcp6")


@dataclass(frozen=True)
class Peer:
    """The other end of a connection: `known` is False where the system does not say;
    `uid` is the user holding it, or None when no process holds it any more (it was closed
    before we looked) or it is not in the table."""

    known: bool
    uid: int | None = None


def peer_of(connection: socket.socket, proc_net: Path = Path("/proc/net")) -> Peer:
    """Who holds the other end of `connection`, a TCP connection between two local
    addresses (an IPv4 listener's accepted socket)."""
    try:
        ours = connection.getsockname()
        theirs = connection.getpeername()
    except OSError:
        return Peer(known=True)  # already gone
    tables = []
    for name in _TABLES:
        try:
            tables.append((name, (proc_net / name).read_text(encoding="ascii", errors="replace")))
        except OSError:
            continue
    if not tables:
        return Peer(known=False)
    uids: set[int] = set()
    for name, text in tables:
        # Their socket is the entry whose local end is their address and whose remote end
        # is ours (our accepted socket is the mirror image, with our uid).
        uids.update(live_owners(text, _key(theirs, name), _key(ours, name)))
    if len(uids) != 1:
        return Peer(known=True)
    return Peer(known=True, uid=uids.pop())


def live_owners(table: str, local: str, remote: str) -> list[int]:
    """The uids of the live sockets (inode not 0) in a /proc/net/tcp-format `table` whose
    local and remote ends are `local` and `remote` (in the table's hex notation)."""
    found = []
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[1] != local or fields[2] != remote:
            continue
        try:
            uid, inode = int(fields[7]), int(fields[9])
        except ValueError:
            continue
        if inode != 0:
            found.append(uid)
    return found


def _key(address: tuple[str, int], table: str) -> str:
    """An IPv4 `(host, port)` as the table writes it: the address as the kernel holds it
    in memory (network order) printed as native-endian 32-bit hex words; in tcp6 as an
    IPv4-mapped IPv6 address."""
    host, port = address[0], address[1]
    packed = socket.inet_aton(host)
    if table == "tcp6":
        packed = bytes(10) + b"\xff\xff" + packed
    words = [packed[i : i + 4] for i in range(0, len(packed), 4)]
    hexed = "".join(f"{int.from_bytes(word, sys.byteorder):08X}" for word in words)
    return f"{hexed}:{port:04X}"
