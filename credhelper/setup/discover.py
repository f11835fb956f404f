"""Discovery for `ecr-sso setup --discover`: the accounts and roles an SSO login can reach,
named as profiles.

Two edges and a pure middle. `load_access_token` reads the SSO token the AWS CLI cached;
`discover` asks the SSO portal (ListAccounts, then ListAccountRoles per account, both
paginated, the role listings concurrent over a bounded pool) and hands the pairs to pure
functions that filter (`is_selected`) and name (`profile_names`) them.

The portal throttles bursts (TooManyRequestsException, HTTP 429). botocore's standard retry
mode retries those with exponential backoff and jitter, but its retry quota is per client
and shared by every thread: a long burst can drain it, after which botocore stops retrying
altogether. So a listing that still ends throttled is resumed from its last page after our
own bounded, jittered backoff.

This module is on the `ecr-sso` command's path only, never on the credential helper's.
"""

from __future__ import annotations

import fnmatch
import logging
import random
import re
import string
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from credhelper import errors
from credhelper.errors import login_command
from credhelper.paths import Paths
from credhelper.sso import logins

log = logging.getLogger(__name__)

DEFAULT_TEMPLATE = "{account_name}-{role_name}"
TEMPLATE_FIELDS = ("account_id", "account_name", "role_name")

#: The portal's largest page (`MaxResultType` in botocore's model); fewer round trips.
PAGE_SIZE = 100
#: Setup is interactive, not a `docker pull`: more patient than the helper, still bounded.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
#: botocore's attempts per request (first try included) before an error reaches us.
BOTOCORE_ATTEMPTS = 5
#: Our own rounds on top, for a listing still throttled after botocore's attempts, and the
#: base and cap (seconds) of their exponential, jittered delays.
OWN_ROUNDS = 4
OWN_BASE_DELAY = 2.0
OWN_MAX_DELAY = 20.0

_UNSAFE = re.compile(r"[^a-z0-9._]+")


@dataclass(frozen=True)
class Found:
    """One role in one account the SSO login can use, and the profile name chosen for it."""

    account_id: str
    account_name: str
    role_name: str
    profile_name: str


# -- the SSO token cache ----------------------------------------------------------------


def load_access_token(paths: Paths, session: str | None, start_url: str | None) -> tuple[str, str]:
    """(access token, SSO region) from the AWS CLI's SSO token cache.

    The cache file is `~/.aws/sso/cache/<sha1(session name)>.json` for an sso-session, or
    `<sha1(start URL)>.json` for a legacy profile; with both given, the session's file is
    tried first, then the start URL's. A token that is missing, unreadable, expired or
    expiring within `logins.TOKEN_MARGIN` seconds raises `errors.LoginRequired` naming
    `ecr-sso login --sso-session NAME` (or a profile, for the legacy form). A session
    whose cached login is for a different start URL than `start_url` raises
    `errors.ConfigError`: its accounts are not the ones asked for. The token is never
    refreshed here and never logged."""
    if not session and not start_url:
        raise errors.UsageError("discovery needs an SSO session name or an SSO start URL")
    mismatch: str | None = None
    for key in (session, start_url):
        if not key:
            continue
        cached = _read_cache(paths, key)
        if cached is None:
            continue
        token, region, cached_url = cached
        if key == session and start_url and cached_url and not _same_url(cached_url, start_url):
            mismatch = cached_url
            continue
        return token, region
    if mismatch is not None:
        raise errors.ConfigError(
            f"the cached SSO login of session '{session}' is for {mismatch}, not {start_url};"
            " choose another session name, or sign that session in to the start URL wanted"
        )
    if session:
        raise errors.LoginRequired(
            f"no valid SSO login for session '{session}' (missing or expired); run"
            f" `{login_command(session=session)}`"
        )
    raise errors.LoginRequired(
        f"no valid SSO login for {start_url} (missing or expired); run"
        f" `{login_command('PROFILE')}` with a profile whose sso_start_url is {start_url}"
    )


def _read_cache(paths: Paths, key: str) -> tuple[str, str, str | None] | None:
    """(token, region, start URL) of a usable cached login, else None (never the token).
    Usable is `valid` by the one rule (`logins.state`): discovery calls the portal with
    the access token itself and does not refresh it."""
    login = logins.login_from(logins.read_file(paths, key))
    if login is None or not login.region:
        log.info("the cached SSO login of %s has no access token, expiry or region", key)
        return None
    state = logins.state(login, time.time())
    if state != "valid":
        log.info("the cached SSO login of %s is %s (or expires within a minute)", key, state)
        return None
    return login.access_token, login.region, login.start_url


def _same_url(a: str, b: str) -> bool:
    return a.strip().rstrip("/#").lower() == b.strip().rstrip("/#").lower()


# -- filters and names: pure ------------------------------------------------------------


def check_template(template: str) -> None:
    """Raise `errors.UsageError` unless `template` is a `str.format` template using only
    the fields `account_id`, `account_name` and `role_name` (no attributes or indexes)."""
    try:
        for _, name, _, _ in string.Formatter().parse(template):
            if name is not None and name not in TEMPLATE_FIELDS:
                raise errors.UsageError(
                    f"the profile name template {template!r} uses {{{name}}}; only"
                    " {account_id}, {account_name} and {role_name} are available"
                )
        template.format(**dict.fromkeys(TEMPLATE_FIELDS, "x"))
    except (ValueError, KeyError, IndexError, AttributeError) as err:
        raise errors.UsageError(
            f"the profile name template {template!r} is malformed: {err}"
        ) from None


def normalise(name: str) -> str:
    """A safe profile name: accents dropped, lower-case, every run of characters outside
    `[a-z0-9._]` (dashes included, so "a - b" gives "a-b", not "a---b") replaced by one
    "-", and no leading or trailing "-". May be empty."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _UNSAFE.sub("-", plain.lower()).strip("-")


def _matches(patterns: Sequence[str], subjects: Iterable[str]) -> bool:
    lowered = [subject.lower() for subject in subjects]
    return any(
        fnmatch.fnmatchcase(subject, pattern.lower()) for pattern in patterns for subject in lowered
    )


def is_selected(
    include: Sequence[str], exclude: Sequence[str], account_id: str, account_name: str, role: str
) -> bool:
    """Whether a role passes the filters. Each pattern is a shell-style glob (`*`, `?`,
    `[...]`), compared without regard to case against the account id, the account name,
    the role name and "account name/role name" (e.g. `prod*`, `*/Admin*`, `1234*`); a
    pattern matches a role when it matches any of the four. A role is selected when no
    exclude pattern matches and, if any include patterns are given, at least one of them
    matches. Exclude wins over include."""
    subjects = (account_id, account_name, role, f"{account_name}/{role}")
    if _matches(exclude, subjects):
        return False
    return not include or _matches(include, subjects)


def _account_excluded(exclude: Sequence[str], account_id: str, account_name: str) -> bool:
    # An exclude pattern matching the account's id or name excludes every role of it, so
    # its roles need not be listed.
    return _matches(exclude, (account_id, account_name))


def profile_names(
    roles: Iterable[tuple[str, str, str]], template: str = DEFAULT_TEMPLATE
) -> list[Found]:
    """Name every (account id, account name, role name) by `template`, normalised (see
    `normalise`; a name that normalises to nothing becomes "<account id>-<role>").
    Names that collide get "-2", "-3", ... in the order of (account id, role name), the
    first keeping the plain name; a suffixed name never takes a name another role has.
    Sorted by profile name."""
    check_template(template)
    ordered = sorted(set(roles), key=lambda r: (r[0], r[2], r[1]))
    bases = []
    for account_id, account_name, role in ordered:
        base = normalise(
            template.format(account_id=account_id, account_name=account_name, role_name=role)
        )
        bases.append(base or normalise(f"{account_id}-{role}"))
    taken = set(bases)
    used: set[str] = set()
    found = []
    for (account_id, account_name, role), base in zip(ordered, bases, strict=True):
        name = base
        if name in used:
            suffix = 2
            while f"{base}-{suffix}" in taken or f"{base}-{suffix}" in used:
                suffix += 1
            name = f"{base}-{suffix}"
        used.add(name)
        found.append(Found(account_id, account_name, role, name))
    return sorted(found, key=lambda f: f.profile_name)


# -- the SSO portal -----------------------------------------------------------------------


def discover(
    access_token: str,
    region: str,
    *,
    template: str = DEFAULT_TEMPLATE,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    max_workers: int = 8,
    progress: Callable[[int, int], None] | None = None,
    login_hint: str | None = None,
    skipped: Callable[[str], None] | None = None,
) -> list[Found]:
    """Every (account, role) the SSO access token can use, filtered by `include` and
    `exclude` (see `is_selected`) and named by `template` (see `profile_names`), sorted
    by profile name. A role whose account ID or role name IAM could not have issued (a
    hostile or broken reply: a newline in a role name would add keys to the profile it is
    written into) is left out, and `skipped` is told why, in a line.

    Calls the SSO portal in `region` (its endpoint overridable with AWS_ENDPOINT_URL_SSO):
    ListAccounts page by page, then ListAccountRoles for each account not excluded
    outright, at most `max_workers` at a time. `progress(done, total)` is called on the
    calling thread with (0, total) once the accounts are known and again as each account's
    roles are in; total counts the accounts whose roles are listed.

    Raises `errors.LoginRequired` (naming `login_hint`, the command to sign in again) when
    the portal refuses the token, `errors.Throttled` when it keeps throttling after every
    retry, `errors.Unreachable` when it does not answer, `errors.AwsError` otherwise, and
    `errors.UsageError` for a bad template or `max_workers`."""
    check_template(template)
    if max_workers < 1:
        raise errors.UsageError(f"max_workers must be at least 1, not {max_workers}")
    from botocore.exceptions import BotoCoreError, ClientError

    hint = login_hint or login_command()
    started = time.monotonic()
    try:
        client = portal_client(region, max_workers)
    except BotoCoreError as err:
        raise _translate(err, hint, "connecting to the SSO portal") from None
    try:
        try:
            accounts = _list_accounts(client, access_token)
        except (BotoCoreError, ClientError) as err:
            raise _translate(err, hint, "listing the SSO accounts") from None
        wanted = [
            (account_id, name)
            for account_id, name in accounts.items()
            if not _account_excluded(exclude, account_id, name)
        ]
        roles = _list_roles(
            client, access_token, wanted, max_workers=max_workers, progress=progress, hint=hint
        )
    finally:
        client.close()
    selected = []
    for (account_id, name), account_roles in zip(wanted, roles, strict=True):
        for role in account_roles:
            if not is_selected(include, exclude, account_id, name, role):
                continue
            problem = _unusable(account_id, role)
            if problem is not None:
                if skipped is not None:
                    skipped(problem)
                continue
            selected.append((account_id, name, role))
    found = profile_names(selected, template)
    log.info(
        "discovered %d roles in %d accounts (%d listed, %d selected) in %.0f ms",
        sum(len(r) for r in roles),
        len(accounts),
        len(wanted),
        len(found),
        (time.monotonic() - started) * 1000,
    )
    return found


def _unusable(account_id: str, role: str) -> str | None:
    """Why the portal's (account, role) cannot be written into a profile, or None."""
    from credhelper.setup.teamfile import check_account, check_role

    try:
        check_account(account_id, "the account ID")
    except errors.UsageError:
        return f"skipped the account {account_id!r}: not an AWS account ID"
    try:
        check_role(role, "the role")
    except errors.UsageError:
        return f"skipped the role {role!r} of account {account_id}: not an IAM role name"
    return None


def portal_client(region: str, max_workers: int) -> Any:
    """An unsigned SSO portal client (the portal authenticates by the bearer token in each
    request) with bounded timeouts, standard retries and a connection per worker.

    The session ignores AWS_PROFILE and AWS_DEFAULT_PROFILE: discovery needs no profile,
    and setup often runs while those name a profile it has yet to write (botocore would
    then refuse to create any client). The default profile's settings still apply."""
    from credhelper.aws import client as aws

    patience = aws.Patience(CONNECT_TIMEOUT, READ_TIMEOUT, BOTOCORE_ATTEMPTS)
    session = aws.make_session(None, patience=patience, no_profile=True)
    return aws.make_client(
        session, service="sso", region=region, unsigned=True, max_pool_connections=max_workers
    )


def _list_accounts(client: Any, access_token: str) -> dict[str, str]:
    """account id → name, in the portal's order; an account listed twice counts once."""
    accounts: dict[str, str] = {}
    for item in _collect(client, "list_accounts", "accountList", accessToken=access_token):
        account_id = item.get("accountId")
        if isinstance(account_id, str) and account_id:
            accounts.setdefault(account_id, str(item.get("accountName") or account_id))
    return accounts


def _roles_of(client: Any, access_token: str, account_id: str) -> list[str]:
    roles = _collect(
        client, "list_account_roles", "roleList", accessToken=access_token, accountId=account_id
    )
    names = (role.get("roleName") for role in roles)
    return list(dict.fromkeys(name for name in names if isinstance(name, str) and name))


def _list_roles(
    client: Any,
    access_token: str,
    accounts: Sequence[tuple[str, str]],
    *,
    max_workers: int,
    progress: Callable[[int, int], None] | None,
    hint: str,
) -> list[list[str]]:
    """The role names of each account, in the order of `accounts`, listed concurrently.
    The first failure cancels what has not started and is raised, translated."""
    from botocore.exceptions import BotoCoreError, ClientError

    total = len(accounts)
    if progress is not None:
        progress(0, total)
    if not accounts:
        return []
    results: list[list[str]] = [[] for _ in accounts]
    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="ecr-sso-discover")
    try:
        futures: dict[Future[list[str]], int] = {
            pool.submit(_roles_of, client, access_token, account_id): index
            for index, (account_id, _) in enumerate(accounts)
        }
        pending = set(futures)
        done_count = 0
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                index = futures[future]
                try:
                    results[index] = future.result()
                except (BotoCoreError, ClientError) as err:
                    account_id, name = accounts[index]
                    raise _translate(
                        err, hint, f"listing the roles of account {account_id} ({name})"
                    ) from None
                done_count += 1
                if progress is not None:
                    progress(done_count, total)
    finally:
        # Also on Ctrl-C: without cancel_futures, leaving would first list every account.
        pool.shutdown(wait=True, cancel_futures=True)
    return results


def _collect(client: Any, operation: str, key: str, **params: str) -> list[dict[str, Any]]:
    """Every item under `key` of a paginated portal operation, through botocore's paginator.

    A page still throttled after botocore's retries is asked for again after our own
    jittered backoff (at most `OWN_ROUNDS` times in a row), resuming at that page rather
    than the first. A page token seen twice is an error, not an endless loop (botocore only
    notices a token repeated on consecutive pages)."""
    from botocore.exceptions import ClientError
    from botocore.paginate import TokenEncoder

    items: list[dict[str, Any]] = []
    resume: str | None = None
    seen: set[str] = set()
    rounds = 0
    while True:
        config: dict[str, Any] = {"PageSize": PAGE_SIZE}
        if resume is not None:
            config["StartingToken"] = TokenEncoder().encode({"nextToken": resume})
        pages = client.get_paginator(operation).paginate(PaginationConfig=config, **params)
        try:
            for page in pages:
                items.extend(page.get(key) or [])
                rounds = 0
                token = page.get("nextToken")
                if not token:
                    break
                if token in seen:
                    raise errors.AwsError(
                        f"the SSO portal repeated a page token for {operation}; try again later"
                    )
                seen.add(token)
                resume = token
        except ClientError as err:
            if not _throttled(err) or rounds >= OWN_ROUNDS:
                raise
            delay = _own_delay(rounds)
            rounds += 1
            log.info("%s throttled; waiting %.1f s (round %d)", operation, delay, rounds)
            time.sleep(delay)
            continue
        return items


def _own_delay(round_number: int) -> float:
    ceiling = min(OWN_MAX_DELAY, OWN_BASE_DELAY * 2.0**round_number)
    # Jitter, so throttled workers do not come back in step; not a security use.
    return ceiling * (0.5 + random.random() / 2)  # noqa: S311


def _throttled(err: Any) -> bool:
    code = str(err.response.get("Error", {}).get("Code", ""))
    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code == "TooManyRequestsException" or "Throttl" in code or status == 429


def _translate(err: Exception, hint: str, doing: str) -> errors.EcrSsoError:
    """One actionable line for a botocore failure while `doing` something."""
    from credhelper.aws.client import translate

    response = getattr(err, "response", None)
    if not isinstance(response, dict):
        # Not an answer from the portal: the one translator says what it is.
        return translate(err, service="the SSO portal", purpose=f"while {doing}")
    error = response.get("Error", {})
    code = str(error.get("Code", ""))
    if code in ("UnauthorizedException", "ExpiredTokenException"):
        return errors.LoginRequired(
            f"the SSO portal refused the sign-in (expired or revoked) while {doing}; run `{hint}`"
        )
    if _throttled(err):
        return errors.Throttled(
            f"the SSO portal kept throttling requests while {doing}; try again in a minute"
            " or with fewer workers"
        )
    if code in ("ForbiddenException", "AccessDeniedException"):
        return errors.AccessDenied(f"the SSO portal denied access while {doing}")
    message = str(error.get("Message", "")).splitlines()[0] if error.get("Message") else ""
    detail = f"{code or type(err).__name__}{': ' + message if message else ''}"
    return errors.AwsError(f"{doing} failed: {detail}")
