"""Where the AWS CLI and botocore keep SSO logins, and reading them.

`~/.aws/sso/cache/<sha1 of the sso-session name>.json` (legacy profiles: sha1 of the start
URL), with `expiresAt` as `%Y-%m-%dT%H:%M:%SZ` in UTC.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import os
import time
from typing import Any

from credhelper.paths import Paths

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def token_path(paths: Paths, session_or_start_url: str) -> str:
    """The cache file for an sso-session name (or a legacy profile's start URL)."""
    name = hashlib.sha1(session_or_start_url.encode(), usedforsecurity=False).hexdigest()
    return os.path.join(paths.sso_cache_dir, f"{name}.json")


def read(paths: Paths, session_or_start_url: str) -> dict[str, Any] | None:
    """The cached login, or None when there is none or it is unreadable."""
    try:
        with open(token_path(paths, session_or_start_url), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def parse_time(text: str) -> float:
    """Seconds since the epoch of an AWS CLI cache timestamp (UTC)."""
    text = text.strip()
    if text.endswith("Z") and "." not in text:
        return float(calendar.timegm(time.strptime(text, TIME_FORMAT)))
    from datetime import datetime

    # botocore also accepts full ISO 8601 ("+00:00", fractions); so do we.
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def format_time(moment: float) -> str:
    """The AWS CLI's cache timestamp for `moment`."""
    return time.strftime(TIME_FORMAT, time.gmtime(moment))


def expiry(paths: Paths, session_or_start_url: str) -> float | None:
    """When the cached access token expires, or None when there is no usable login."""
    data = read(paths, session_or_start_url)
    if data is None or not data.get("accessToken") or not isinstance(data.get("expiresAt"), str):
        return None
    try:
        return parse_time(data["expiresAt"])
    except ValueError:
        return None
