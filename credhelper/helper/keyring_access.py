"""The only importer of `keyring`: get, set and delete one secret, errors translated.

Each caller passes the `hint` that ends the error line: what the keyring was needed for
decides what the user can do about it.

keyring's backend discovery is slow (on Linux it probes the macOS backend, which starts
`ldconfig`), so nothing imports this module unless a secret is actually needed.
"""

from __future__ import annotations

from typing import Any

from credhelper.errors import KeyringUnavailable


def get_password(service: str, name: str, *, hint: str) -> str | None:
    """The secret stored under (service, name), or None."""
    keyring, errors = _load()
    try:
        value: str | None = keyring.get_password(service, name)
    except errors.KeyringError as err:
        raise _unavailable(err, hint) from None
    return value


def set_password(service: str, name: str, secret: str, *, hint: str) -> None:
    """Store `secret` under (service, name), replacing what was there, and make sure it
    was kept: keyring's null backend (and others that cannot store) accept a secret and
    drop it, and `docker login` would then report success for a password that is gone."""
    keyring, errors = _load()
    try:
        keyring.set_password(service, name, secret)
        kept = keyring.get_password(service, name) == secret
    except errors.KeyringError as err:
        raise _unavailable(err, hint) from None
    if not kept:
        backend = type(keyring.get_keyring())
        raise KeyringUnavailable(
            f"the OS keyring ({backend.__module__}.{backend.__name__}) did not keep the"
            f" password; {hint}"
        )


def delete_password(service: str, name: str, *, hint: str) -> bool:
    """Remove (service, name); False when there was nothing."""
    keyring, errors = _load()
    try:
        keyring.delete_password(service, name)
    except errors.PasswordDeleteError:
        return False
    except errors.KeyringError as err:
        raise _unavailable(err, hint) from None
    return True


def _load() -> tuple[Any, Any]:
    import keyring
    import keyring.errors

    return keyring, keyring.errors


def _unavailable(err: Exception, hint: str) -> KeyringUnavailable:
    # keyring's messages name the backend and the reason, never the secret.
    return KeyringUnavailable(f"the OS keyring is not usable ({type(err).__name__}: {err}); {hint}")
