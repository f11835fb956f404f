"""The SSO portal's account listing, added to `FakeAWS` through its extension points.

Operations, with the names recorded in `FakeAWS.calls` (params: the query and the bearer):

- `ListAccounts`: `GET /assignment/accounts?max_result=&next_token=` →
  `{"accountList": [{"accountId", "accountName", "emailAddress"}], "nextToken"}`.
- `ListAccountRoles`: `GET /assignment/roles?account_id=&max_result=&next_token=` →
  `{"roleList": [{"roleName", "accountId"}], "nextToken"}`.

Both take the access token in the `x-amz-sso_bearer_token` header: only tokens given to
`FakePortal.accept` (or made by `FakePortal.token`) are valid, anything else answers 401
UnauthorizedException. A page holds at most `page_size` items, however many the client
asks for, so modest organisations already need several pages. Page tokens are opaque and
checked: a token of another listing answers 400 InvalidRequestException.

Knobs, restored by `FakeAWS.reset()` (so per test): `page_size`; `latency` (seconds every
call waits, a stand-in for the network); `throttle(n, operation, after=k)` (after k more
calls, the next n answer 429 TooManyRequestsException); `vanish(account_id)` (listed, but
its roles answer 404); `gather` (the first ListAccountRoles calls wait, up to
`GATHER_TIMEOUT`, until that many are in flight at once: concurrency made deterministic
instead of hoped for). Observations: `count(op)`, `throttled`, `high_water` (the most
ListAccountRoles calls ever in flight together).
"""

from __future__ import annotations

import base64
import random
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import pytest
from fakeaws import Call, FakeAWS, Request, Response, rest_error

LIST_ACCOUNTS = "ListAccounts"
LIST_ACCOUNT_ROLES = "ListAccountRoles"

DEFAULT_PAGE_SIZE = 20
GATHER_TIMEOUT = 10.0


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    email: str
    roles: tuple[str, ...]


# Realistic names: spaces, capitals, punctuation, and pairs that are equal once normalised.
_TEAMS = (
    "Payments",
    "Data Platform",
    "connected-home",
    "Identity",
    "Search & Discovery",
    "ML Research",
    "Mobile API",
    "billing_core",
    "Edge/CDN",
    "Customer Support Tools",
    "Logistics",
    "Risk (Fraud)",
    "Observability",
    "Ads",
    "Kafka Platform",
    "Café Ops",
)
_STAGES = ("Dev", "Staging", "Prod", "Sandbox", "QA", "prod-eu", "Prod EU", "DR")
_ROLES = (
    "AdministratorAccess",
    "ReadOnlyAccess",
    "PowerUserAccess",
    "Developer",
    "ViewOnlyAccess",
    "Billing",
    "SecurityAudit",
    "DataScientist",
)


def organisation(accounts: int, roles: int, *, seed: int = 3) -> list[Account]:
    """`accounts` accounts with `roles` roles each, in a shuffled (portal-like) order. Names
    are deterministic for a seed; many collide after normalisation ("Prod EU"/"prod-eu",
    the same team and stage in two accounts), and a few are plain duplicates."""
    if roles > len(_ROLES):
        raise ValueError(f"at most {len(_ROLES)} roles per account")
    chooser = random.Random(seed)
    made = []
    for index in range(accounts):
        team = _TEAMS[index % len(_TEAMS)]
        stage = _STAGES[(index // len(_TEAMS)) % len(_STAGES)]
        lap = index // (len(_TEAMS) * len(_STAGES))
        name = f"{team} {stage}" if lap == 0 else f"{team} {stage} {lap + 1}"
        account_id = f"{100000000000 + index * 7919:012d}"
        made.append(
            Account(
                account_id,
                name,
                f"aws+{account_id}@example.com",
                tuple(chooser.sample(_ROLES, roles)),
            )
        )
    chooser.shuffle(made)
    return made


class FakePortal:
    """The portal's state and knobs; one per `FakeAWS`, made by `attach`."""

    _attached: ClassVar[weakref.WeakKeyDictionary[FakeAWS, FakePortal]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, fake: FakeAWS) -> None:
        self.fake = fake
        self._lock = threading.Condition()
        self._reset()
        fake.add_rest_route("GET", "/assignment/accounts", self._list_accounts)
        fake.add_rest_route("GET", "/assignment/roles", self._list_account_roles)
        fake.add_reset_hook(self._reset)

    @classmethod
    def attach(cls, fake: FakeAWS) -> FakePortal:
        """The portal of `fake`, added on first use (routes and reset hook registered once)."""
        portal = cls._attached.get(fake)
        if portal is None:
            portal = cls._attached[fake] = cls(fake)
        return portal

    def _reset(self) -> None:
        with self._lock:
            self.accounts: list[Account] = []
            self._by_id: dict[str, Account] = {}
            self._tokens: set[str] = set()
            self.page_size = DEFAULT_PAGE_SIZE
            self.latency = 0.0
            self.gather = 0
            # operation (None: any) → [calls still to let through, calls to throttle]
            self._throttle: dict[str | None, list[int]] = {}
            self._vanished: set[str] = set()
            self.throttled = 0
            self._in_flight = 0
            self.high_water = 0

    # -- arranging ---------------------------------------------------------------------

    def set_accounts(self, accounts: Sequence[Account]) -> None:
        with self._lock:
            self.accounts = list(accounts)
            self._by_id = {account.account_id: account for account in accounts}

    def accept(self, token: str) -> None:
        """Make `token` valid for the portal (e.g. the one `SSO.login` returned)."""
        with self._lock:
            self._tokens.add(token)

    def revoke(self, token: str) -> None:
        """`token` is no longer valid for the portal (signed out, or expired server-side)."""
        with self._lock:
            self._tokens.discard(token)

    def token(self) -> str:
        """A new access token, valid for the portal and for GetRoleCredentials."""
        token = "aoa" + base64.urlsafe_b64encode(random.randbytes(36)).decode()
        self.fake.add_sso_token(token)
        self.accept(token)
        return token

    def throttle(self, calls: int, operation: str | None = None, *, after: int = 0) -> None:
        """After `after` more calls have passed, the next `calls` calls (of `operation`
        only, if given) answer 429 TooManyRequestsException."""
        with self._lock:
            self._throttle[operation] = [after, calls]

    def vanish(self, account_id: str) -> None:
        """The account is still listed, but listing its roles answers 404
        ResourceNotFoundException, as for an account closed between the two calls."""
        with self._lock:
            self._vanished.add(account_id)

    # -- inspecting --------------------------------------------------------------------

    def count(self, operation: str) -> int:
        return self.fake.count(operation)

    # -- the operations ----------------------------------------------------------------

    def _list_accounts(self, request: Request) -> Response:
        with self._calling(request, LIST_ACCOUNTS) as failure:
            if failure is not None:
                return failure
            return self._page(
                request,
                "accounts",
                [
                    {"accountId": a.account_id, "accountName": a.name, "emailAddress": a.email}
                    for a in self.accounts
                ],
                "accountList",
            )

    def _list_account_roles(self, request: Request) -> Response:
        with self._calling(request, LIST_ACCOUNT_ROLES) as failure:
            if failure is not None:
                return failure
            account_id = request.query.get("account_id")
            if not account_id:
                return rest_error(400, "InvalidRequestException", "account_id is required")
            account = self._by_id.get(account_id)
            if account is None or account_id in self._vanished:
                return rest_error(404, "ResourceNotFoundException", "Account not found")
            return self._page(
                request,
                f"roles:{account_id}",
                [{"roleName": role, "accountId": account_id} for role in account.roles],
                "roleList",
            )

    def _calling(self, request: Request, operation: str) -> _Calling:
        return _Calling(self, request, operation)

    def _enter(self, request: Request, operation: str) -> Response | None:
        """Record, count concurrency, wait, authenticate, throttle: the shared preamble."""
        bearer = request.headers.get("x-amz-sso_bearer_token")
        self.fake.record(Call(operation, None, None, {**request.query, "bearer": bearer}))
        with self._lock:
            if operation == LIST_ACCOUNT_ROLES:
                self._in_flight += 1
                self.high_water = max(self.high_water, self._in_flight)
                self._lock.notify_all()
                if self.gather:
                    # Not a sleep: wakes as soon as enough calls are in flight together.
                    self._lock.wait_for(lambda: self.high_water >= self.gather, GATHER_TIMEOUT)
                    # Once only: a client that never gets there must not wait on every call.
                    self.gather = 0
                    self._lock.notify_all()
            latency = self.latency
        if latency > 0:
            # Simulated network latency; not a synchronisation.
            threading.Event().wait(latency)
        with self._lock:
            if bearer not in self._tokens:
                return rest_error(
                    401, "UnauthorizedException", "Session token not found or invalid"
                )
            for key in (operation, None):
                plan = self._throttle.get(key)
                if plan is None:
                    continue
                if plan[0] > 0:
                    plan[0] -= 1
                elif plan[1] > 0:
                    plan[1] -= 1
                    self.throttled += 1
                    return rest_error(429, "TooManyRequestsException", "Rate exceeded")
        return None

    def _leave(self, operation: str) -> None:
        if operation == LIST_ACCOUNT_ROLES:
            with self._lock:
                self._in_flight -= 1

    def _page(
        self, request: Request, listing: str, items: list[dict[str, str]], key: str
    ) -> Response:
        try:
            wanted = int(request.query.get("max_result") or self.page_size)
        except ValueError:
            return rest_error(400, "InvalidRequestException", "max_result must be a number")
        if not 1 <= wanted <= 100:
            return rest_error(400, "InvalidRequestException", "max_result must be 1 to 100")
        start = 0
        token = request.query.get("next_token")
        if token:
            start_or_none = _decode_token(token, listing)
            if start_or_none is None or start_or_none > len(items):
                return rest_error(400, "InvalidRequestException", "Invalid next token")
            start = start_or_none
        end = start + min(wanted, self.page_size)
        body: dict[str, object] = {key: items[start:end]}
        if end < len(items):
            body["nextToken"] = _encode_token(end, listing)
        return Response(200, body)


class _Calling:
    """`with portal._calling(...) as failure`: the preamble, and the in-flight count kept
    right however the handler leaves."""

    def __init__(self, portal: FakePortal, request: Request, operation: str) -> None:
        self.portal, self.request, self.operation = portal, request, operation

    def __enter__(self) -> Response | None:
        return self.portal._enter(self.request, self.operation)

    def __exit__(self, *exc_info: object) -> None:
        self.portal._leave(self.operation)


def _encode_token(offset: int, listing: str) -> str:
    return base64.urlsafe_b64encode(f"{listing}|{offset}".encode()).decode()


def _decode_token(token: str, listing: str) -> int | None:
    try:
        got_listing, _, offset = base64.urlsafe_b64decode(token.encode()).decode().rpartition("|")
        return int(offset) if got_listing == listing else None
    except ValueError:
        return None


@pytest.fixture
def portal(aws: FakeAWS) -> FakePortal:
    """The fake SSO portal on the (freshly reset) fake AWS; import it into a test module."""
    return FakePortal.attach(aws)
