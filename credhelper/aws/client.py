"""The only place botocore is imported on the helper's path: a session per profile, the
token fetch, and the translation of botocore's errors into ours.

botocore is used directly rather than through boto3's wrapper: the token fetch needs one
client and no resources, and skipping boto3's import is measurably faster on a cold `get`.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

from credhelper import errors
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


def login_command(profile: str | None) -> str:
    """The command that signs a profile in again."""
    if not profile:
        return "ecr-sso login"
    import shlex

    return f"ecr-sso login {shlex.quote(profile)}"


def make_session(profile: str | None) -> Any:
    """A botocore session for `profile` (None: the default chain) with bounded timeouts."""
    import botocore.session
    from botocore.config import Config

    from credhelper.version import user_agent

    session = botocore.session.Session(profile=profile)
    session.set_default_client_config(
        Config(
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
            user_agent_extra=user_agent(),
        )
    )
    from credhelper.aws import replies

    replies.watch(session)
    return session


def make_client(session: Any, registry: Registry) -> Any:
    """The ECR or ECR Public client for `registry`: its region, FIPS endpoints for FIPS
    hosts. For other hosts FIPS is botocore's own setting (`AWS_USE_FIPS_ENDPOINT`,
    `use_fips_endpoint` in the profile), never turned off here. Creating it makes no AWS
    call."""
    from botocore.config import Config

    return session.create_client(
        registry.service,
        region_name=registry.region,
        config=Config(use_fips_endpoint=True) if registry.fips else None,
    )


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
    err: Exception, registry: Registry, profile: str | None, session: Any = None
) -> errors.EcrSsoError:
    """One actionable line for a botocore failure. Never includes credentials: botocore's
    messages carry error codes, ARNs and URLs, never secret values."""
    kind = type(err).__name__
    who = f"profile '{profile}'" if profile else "the default credential chain"
    if kind == "ProfileNotFound":
        return errors.ConfigError(
            f"AWS profile '{profile}' is not in the AWS config; run `ecr-sso setup` or fix"
            " the registry map"
        )
    if kind in _LOGIN_ERRORS:
        return errors.LoginRequired(
            f"the SSO login for {who} is missing or expired; run `{login_command(profile)}`"
        )
    if kind == "NoCredentialsError":
        return errors.NoCredentials(
            f"no AWS credentials for {registry.host}: map it to a profile (`ecr-sso setup`),"
            " set ECR_SSO_PROFILE, or provide credentials (AWS_ACCESS_KEY_ID, a web identity"
            " token, an instance or container role)"
        )
    if kind in ("InvalidConfigError", "PartialCredentialsError", "NoRegionError"):
        return errors.ConfigError(f"{who}: {err}")
    if kind in NETWORK_ERRORS:
        endpoint = getattr(err, "kwargs", {}).get("endpoint_url", "")
        return errors.Unreachable(
            f"cannot reach AWS{' at ' + endpoint if endpoint else ''} for {registry.host}"
            " (network, proxy or VPN?)"
        )
    if _is_client_error(err):
        return _client_error(err, registry, who, profile, session)
    return errors.AwsError(f"getting a token for {registry.host} failed: {kind}: {err}")


def _client_error(
    err: Any, registry: Registry, who: str, profile: str | None, session: Any
) -> errors.EcrSsoError:
    error = err.response.get("Error", {})
    code = error.get("Code", "")
    operation = getattr(err, "operation_name", "")
    if code in ("UnauthorizedException", "ExpiredTokenException"):
        return errors.LoginRequired(
            f"the SSO login for {who} is missing or expired; run `{login_command(profile)}`"
        )
    if code in ("AccessDeniedException", "ForbiddenException", "AccessDenied"):
        role = _role_of(session, profile)
        if operation == "GetRoleCredentials":
            return errors.AccessDenied(
                f"access denied: {who} may not use role {role or '?'}; check its"
                " sso_account_id and sso_role_name"
            )
        return errors.AccessDenied(
            f"access denied: {who}{' (role ' + role + ')' if role else ''} may not get an"
            f" ECR token for {registry.host} (ecr:GetAuthorizationToken on account"
            f" {registry.account or 'public'})"
        )
    if "Throttl" in code or code == "TooManyRequestsException":
        return errors.Throttled(f"AWS is throttling {operation or 'requests'}; try again shortly")
    return errors.AwsError(
        f"{operation or 'AWS'} failed for {registry.host}: {code}: "
        f"{error.get('Message', '')}".rstrip(": ")
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


# -- sign-in: SSO-OIDC and the SSO portal ----------------------------------------------


class OidcError(errors.AwsError):
    """An error answer from SSO-OIDC or the SSO portal; `code` is AWS's error code
    (`AuthorizationPendingException`, `SlowDownException`, `InvalidGrantException`, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class SsoApi:
    """The unsigned calls a sign-in makes, for one SSO region: SSO-OIDC's RegisterClient,
    StartDeviceAuthorization and CreateToken, and the portal's Logout. botocore's failures
    become `OidcError`, `errors.Unreachable` or `errors.AwsError`.

    The endpoints are the ones botocore resolves, so `AWS_ENDPOINT_URL_SSO_OIDC` and
    `AWS_ENDPOINT_URL_SSO` move them, and the authorize page with them."""

    def __init__(self, region: str, profile: str | None = None) -> None:
        from botocore import UNSIGNED
        from botocore.config import Config

        session = make_session(profile)
        unsigned = Config(signature_version=UNSIGNED)
        try:
            self._oidc = session.create_client("sso-oidc", region_name=region, config=unsigned)
            self._portal = session.create_client("sso", region_name=region, config=unsigned)
        except Exception as err:  # noqa: BLE001 - botocore's config errors, turned into ours
            raise _sso_error(err, "creating the SSO client") from None

    @property
    def endpoint_url(self) -> str:
        """SSO-OIDC's endpoint, where the authorize page lives too."""
        return str(self._oidc.meta.endpoint_url).rstrip("/")

    def register_client(self, **params: Any) -> dict[str, Any]:
        return self._call(self._oidc.register_client, "RegisterClient", params)

    def start_device_authorization(self, **params: Any) -> dict[str, Any]:
        return self._call(self._oidc.start_device_authorization, "StartDeviceAuthorization", params)

    def create_token(self, **params: Any) -> dict[str, Any]:
        return self._call(self._oidc.create_token, "CreateToken", params)

    def logout(self, access_token: str) -> None:
        self._call(self._portal.logout, "Logout", {"accessToken": access_token})

    @staticmethod
    def _call(method: Any, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            reply = method(**params)
        except Exception as err:  # noqa: BLE001 - every botocore failure becomes ours
            raise _sso_error(err, operation) from None
        return dict(reply)


def _is_client_error(err: Exception) -> bool:
    """An error answer from AWS. botocore raises a subclass of ClientError named after the
    error code when the service models it (SSO's UnauthorizedException, SSO-OIDC's
    AuthorizationPendingException), so the class name alone does not tell."""
    from botocore.exceptions import ClientError

    return isinstance(err, ClientError)


def _sso_error(err: Exception, operation: str) -> errors.EcrSsoError:
    kind = type(err).__name__
    if _is_client_error(err):
        error = getattr(err, "response", {}).get("Error", {})
        code = str(error.get("Code", "")) or "Unknown"
        # SSO-OIDC's errors carry `error_description`; the portal's `Message`.
        detail = error.get("Message") or getattr(err, "response", {}).get("error_description")
        return OidcError(code, f"{operation} failed: {code}" + (f": {detail}" if detail else ""))
    if kind in NETWORK_ERRORS:
        endpoint = getattr(err, "kwargs", {}).get("endpoint_url", "")
        return errors.Unreachable(
            f"cannot reach AWS SSO{' at ' + endpoint if endpoint else ''} (network, proxy or VPN?)"
        )
    if kind == "ProfileNotFound":
        return errors.ConfigError(f"{err}; check AWS_PROFILE and the AWS config")
    if kind in ("InvalidConfigError", "NoRegionError", "InvalidRegionError"):
        return errors.ConfigError(f"{operation}: {err}")
    if isinstance(err, errors.EcrSsoError):
        return err
    return errors.AwsError(f"{operation} failed: {kind}: {err}")


def caller_identity(profile: str) -> dict[str, str]:
    """`sts get-caller-identity` with `profile`'s credentials: account, ARN, user id."""
    from botocore.exceptions import BotoCoreError, ClientError

    session = make_session(profile)
    try:
        reply = session.create_client("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as err:
        raise _identity_error(err, profile) from None
    return {"account": reply["Account"], "arn": reply["Arn"], "user_id": reply["UserId"]}


def _identity_error(err: Exception, profile: str) -> errors.EcrSsoError:
    kind = type(err).__name__
    code = getattr(err, "response", {}).get("Error", {}).get("Code", "")
    if kind in _LOGIN_ERRORS or code in ("UnauthorizedException", "ExpiredTokenException"):
        return errors.LoginRequired(
            f"the SSO login for profile '{profile}' is missing or expired;"
            f" run `{login_command(profile)}`"
        )
    if kind in NETWORK_ERRORS:
        return errors.Unreachable(f"cannot reach AWS STS for profile '{profile}'")
    if kind == "ProfileNotFound":
        return errors.ConfigError(f"AWS profile '{profile}' is not in the AWS config")
    return errors.AwsError(f"GetCallerIdentity failed for profile '{profile}': {kind}: {err}")
