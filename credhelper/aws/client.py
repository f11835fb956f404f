"""The one AWS client factory and the one botocore-error translator, and the helper's
token fetch: the only place botocore is imported on the helper's path.

Every AWS call ecr-sso makes (ECR, ECR Public, STS, SSO, SSO-OIDC) gets its session from
`make_session` (bounded timeouts and retries, our user agent) and its client from
`make_client` (the region, FIPS, and botocore's endpoint resolution, so that
`AWS_ENDPOINT_URL_<SERVICE>` moves it), and every botocore failure becomes one of our
errors through `translate`.

botocore is used directly rather than through boto3's wrapper: the token fetch needs one
client and no resources, and skipping boto3's import is measurably faster on a cold `get`.
"""

from __future__ import annotations

import base64
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from credhelper import errors
from credhelper.errors import login_command
from credhelper.helper.tokens import Token
from credhelper.registry import Registry

log = logging.getLogger(__name__)

# A `docker pull` must not hang when AWS is unreachable: at most two attempts, each with
# short timeouts, for every client botocore makes — including the SSO and SSO-OIDC
# clients it creates itself to turn an SSO login into role credentials.
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 4.0
MAX_ATTEMPTS = 2

_LOGIN_ERRORS = ("SSOTokenLoadError", "UnauthorizedSSOTokenError", "TokenRetrievalError")
# botocore's exception class names for "the endpoint did not answer".
NETWORK_ERRORS = (
    "EndpointConnectionError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ConnectionClosedError",
    "ProxyConnectionError",
)


@dataclass(frozen=True)
class Patience:
    """How long a client waits: seconds to connect, seconds to read, attempts per call."""

    connect: float = CONNECT_TIMEOUT
    read: float = READ_TIMEOUT
    attempts: int = MAX_ATTEMPTS


#: A `docker pull` must not hang: the helper's and every default client's patience.
HELPER = Patience()


def make_session(
    profile: str | None, *, patience: Patience = HELPER, no_profile: bool = False
) -> Any:
    """A botocore session for `profile` (None: the default chain) with bounded timeouts.

    `no_profile` ignores AWS_PROFILE and AWS_DEFAULT_PROFILE too (the default profile's
    settings still apply): for calls that need no credentials, made while those variables
    may name a profile that does not exist yet (setup's discovery)."""
    import botocore.session
    from botocore.config import Config

    from credhelper.version import user_agent

    if no_profile:
        session = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    else:
        session = botocore.session.Session(profile=profile)
    session.set_default_client_config(
        Config(
            connect_timeout=patience.connect,
            read_timeout=patience.read,
            retries={"total_max_attempts": patience.attempts, "mode": "standard"},
            user_agent_extra=user_agent(),
        )
    )
    from credhelper.aws import replies

    replies.watch(session)
    return session


def make_client(
    session: Any,
    registry: Registry | None = None,
    *,
    service: str | None = None,
    region: str | None = None,
    unsigned: bool = False,
    **config: Any,
) -> Any:
    """A client of `session`: for `registry`, its ECR or ECR Public client (its region,
    FIPS endpoints for FIPS hosts); otherwise `service` in `region` (None: the profile's).
    `unsigned` for the calls that carry no AWS signature (SSO-OIDC, the SSO portal);
    `config`, more of botocore's `Config` options. Creating a client makes no AWS call;
    botocore's configuration errors become ours."""
    from botocore import UNSIGNED
    from botocore.config import Config

    options: dict[str, Any] = dict(config)
    if registry is not None:
        service, region = registry.service, registry.region
        if registry.fips:
            # Other hosts leave FIPS to botocore's own setting (AWS_USE_FIPS_ENDPOINT,
            # `use_fips_endpoint` in the profile): never turned off here.
            options["use_fips_endpoint"] = True
    if unsigned:
        options["signature_version"] = UNSIGNED
    try:
        return session.create_client(service, region_name=region, config=Config(**options))
    except Exception as err:  # noqa: BLE001 - botocore's config errors, turned into ours
        raise translate(err, registry, _profile_of(session), session, service=service) from None


def endpoint_of(client: Any) -> str:
    """Where a client sends its calls (after `AWS_ENDPOINT_URL_<SERVICE>`), no trailing /."""
    return str(client.meta.endpoint_url).rstrip("/")


def _profile_of(session: Any) -> str | None:
    try:
        profile = session.profile
    except Exception:  # noqa: BLE001 - an unknown profile shows up in the call's error
        return None
    return str(profile) if profile else None


def fetch_token(registry: Registry, profile: str | None) -> Token:
    """Ask ECR (or ECR Public) for a registry password with `profile`'s credentials."""
    from botocore.exceptions import BotoCoreError, ClientError

    session = make_session(profile)
    started = time.monotonic()
    try:
        client = make_client(session, registry)
        if registry.service == "ecr-public":
            data = client.get_authorization_token()["authorizationData"]
        else:
            # registryIds makes cross-account pulls work: a profile in account A asking
            # for a token to account B's registry (B's policy must allow it).
            reply = client.get_authorization_token(registryIds=[registry.account])
            data = reply["authorizationData"][0]
    except (BotoCoreError, ClientError) as err:
        raise translate(err, registry, profile, session) from None
    log.info(
        "fetched a token for %s with %s in %.0f ms",
        registry.key,
        profile or "the default chain",
        (time.monotonic() - started) * 1000,
    )
    return _decode(data)


def _decode(data: dict[str, Any]) -> Token:
    try:
        decoded = base64.b64decode(data["authorizationToken"]).decode()
        username, sep, password = decoded.partition(":")
        expires = data["expiresAt"]
        expires_at = expires.timestamp() if hasattr(expires, "timestamp") else float(expires)
    except (KeyError, ValueError, TypeError):
        raise errors.AwsError("ECR returned an authorization token in an unknown form") from None
    if not sep or not password:
        raise errors.AwsError("ECR returned an authorization token in an unknown form")
    return Token(username=username, secret=password, expires_at=expires_at)


def translate(
    err: Exception,
    registry: Registry | None = None,
    profile: str | None = None,
    session: Any = None,
    *,
    service: str | None = None,
    purpose: str | None = None,
) -> errors.EcrSsoError:
    """The one translation of a botocore failure into one actionable line of our error
    family, naming the profile and, where the endpoint is the question, the endpoint.

    `registry` is the registry a token was asked for (its host names the call); for other
    calls `service` names what was called (`AWS STS`, `AWS SSO`) and `purpose` says what
    for (`for the account of profile 'dev'`). Never includes credentials: botocore's
    messages carry error codes, ARNs and URLs, never secret values."""
    kind = type(err).__name__
    who = f"profile '{profile}'" if profile else "the default credential chain"
    what = service or "AWS"
    purpose = purpose or (f"for {registry.host}" if registry is not None else f"with {who}")
    if isinstance(err, errors.EcrSsoError):
        return err
    if kind == "ProfileNotFound":
        # Where the name came from is the caller's to add (`UnknownProfile.source`).
        return errors.UnknownProfile(profile or getattr(err, "kwargs", {}).get("profile", ""))
    if kind in _LOGIN_ERRORS:
        return _login_required(who, profile)
    if kind == "NoCredentialsError":
        if registry is None:
            return errors.NoCredentials(f"{who} yields no AWS credentials ({what} {purpose})")
        return errors.NoCredentials(
            f"no AWS credentials for {registry.host}: map it to a profile (`ecr-sso setup`),"
            " set ECR_SSO_PROFILE, or provide credentials (AWS_ACCESS_KEY_ID, a web identity"
            " token, an instance or container role)"
        )
    if kind in ("InvalidConfigError", "PartialCredentialsError", "NoRegionError"):
        return errors.ConfigError(f"{who}: {err}")
    if kind == "InvalidRegionError":
        return errors.ConfigError(f"{err} (check the region in the AWS config or the command)")
    if kind in NETWORK_ERRORS:
        # Scheme and host only: a URL's path and query are the call's, not the endpoint's.
        url = urlsplit(str(getattr(err, "kwargs", {}).get("endpoint_url", "")))
        endpoint = f"{url.scheme}://{url.netloc}" if url.netloc else ""
        # With a registry, the profile is not in `purpose` yet: name it, it decides the
        # endpoint as much as the host does (its region, its endpoint_url).
        by = f" with {who}" if registry is not None else ""
        return errors.Unreachable(
            f"cannot reach {what}{' at ' + endpoint if endpoint else ''} {purpose}{by}"
            " (network, proxy or VPN?)"
        )
    if _is_client_error(err):
        return _client_error(
            err, registry, who=who, profile=profile, session=session, what=what, purpose=purpose
        )
    return errors.AwsError(f"the call to {what} {purpose} failed: {kind}: {err}")


def _login_required(who: str, profile: str | None) -> errors.LoginRequired:
    return errors.LoginRequired(
        f"the SSO login for {who} is missing or expired; run `{login_command(profile)}`"
    )


def _client_error(
    err: Any,
    registry: Registry | None,
    *,
    who: str,
    profile: str | None,
    session: Any,
    what: str,
    purpose: str,
) -> errors.EcrSsoError:
    error = err.response.get("Error", {})
    code = error.get("Code", "")
    operation = getattr(err, "operation_name", "")
    if code in ("UnauthorizedException", "ExpiredTokenException"):
        return _login_required(who, profile)
    if code in ("AccessDeniedException", "ForbiddenException", "AccessDenied"):
        role = _role_of(session, profile)
        if operation == "GetRoleCredentials":
            return errors.AccessDenied(
                f"access denied: {who} may not use role {role or '?'}; check its"
                " sso_account_id and sso_role_name"
            )
        if registry is None:
            return errors.AccessDenied(
                f"access denied: {who}{' (role ' + role + ')' if role else ''} may not call"
                f" {operation or what}"
            )
        return errors.AccessDenied(
            f"access denied: {who}{' (role ' + role + ')' if role else ''} may not get an"
            f" ECR token for {registry.host} (ecr:GetAuthorizationToken on account"
            f" {registry.account or 'public'})"
        )
    if "Throttl" in code or code == "TooManyRequestsException":
        return errors.Throttled(f"AWS is throttling {operation or 'requests'}; try again shortly")
    return errors.AwsError(
        f"{operation or what} failed {purpose}: {code}: {error.get('Message', '')}".rstrip(": ")
    )


def _role_of(session: Any, profile: str | None) -> str | None:
    if session is None or profile is None:
        return None
    try:
        scoped = session.full_config.get("profiles", {}).get(profile, {})
    except Exception:  # noqa: BLE001 - a broken config already surfaced elsewhere
        return None
    role = scoped.get("sso_role_name") or scoped.get("role_arn")
    return str(role) if role else None


def _is_client_error(err: Exception) -> bool:
    """An error answer from AWS. botocore raises a subclass of ClientError named after the
    error code when the service models it (SSO's UnauthorizedException, SSO-OIDC's
    AuthorizationPendingException), so the class name alone does not tell."""
    from botocore.exceptions import ClientError

    return isinstance(err, ClientError)


def client_error_code(err: Exception) -> str | None:
    """AWS's error code when `err` is an error answer from AWS, else None."""
    if not _is_client_error(err):
        return None
    return str(getattr(err, "response", {}).get("Error", {}).get("Code", "")) or "Unknown"
