"""Credentials for registries that are not ECR, kept in the OS keyring.

This lets `docker-credential-ecr-sso` be Docker's `credsStore` for every other registry
too. The keyring cannot list its entries, so an index file (server URL → username, no
secrets) is kept beside it; `get` consults the index first and only then imports keyring,
so a miss stays cheap.
"""

from __future__ import annotations

import json
import os

from credhelper import atomic
from credhelper.helper import keyring_access

SERVICE = "ecr-sso docker"
HINT = (
    "passwords for registries other than ECR are kept there: fix the keyring, or use"
    " another credsStore in Docker's config.json"
)


class CredStore:
    """Docker credentials by registry address (`host` or `host:port`)."""

    def __init__(self, data_dir: str) -> None:
        self.index_path = os.path.join(data_dir, "stored-registries.json")

    def index(self) -> dict[str, dict[str, str]]:
        """address → {"server_url": as given to `store`, "username": ...}. A damaged
        index reads as empty: the secrets stay in the keyring, only the listing is lost."""
        try:
            with open(self.index_path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, dict)}

    def get(self, address: str) -> tuple[str, str] | None:
        """(username, secret) for `address`, or None."""
        entry = self.index().get(address)
        if entry is None:
            return None
        secret = keyring_access.get_password(SERVICE, address, hint=HINT)
        if secret is None:
            return None
        return entry.get("username", ""), secret

    def put(self, address: str, server_url: str, username: str, secret: str) -> None:
        """Keep `secret` in the keyring and the (address, username) in the index."""
        keyring_access.set_password(SERVICE, address, secret, hint=HINT)
        entries = self.index()
        entries[address] = {"server_url": server_url, "username": username}
        self._write(entries)

    def delete(self, address: str) -> bool:
        """Forget `address`; False when it was not stored."""
        entries = self.index()
        known = entries.pop(address, None) is not None
        found = keyring_access.delete_password(SERVICE, address, hint=HINT) if known else False
        if known:
            self._write(entries)
        return found or known

    def _write(self, entries: dict[str, dict[str, str]]) -> None:
        atomic.ensure_private_dir(os.path.dirname(self.index_path))
        data = json.dumps(entries, indent=2, sort_keys=True) + "\n"
        atomic.write_bytes(self.index_path, data.encode())
