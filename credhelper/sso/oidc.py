"""SSO-OIDC and the SSO portal, as a sign-in calls them: RegisterClient,
StartDeviceAuthorization, CreateToken and the portal's Logout, unsigned, through the one
client factory (`aws.client`), so `AWS_ENDPOINT_URL_SSO_OIDC` and `AWS_ENDPOINT_URL_SSO`
move them, and the authorize page with them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from credhelper import errors
from credhelper.aws import client as aws
from credhelper.aws.config import SsoSession


class OidcError(errors.AwsError):
    """An error answer from SSO-OIDC or the SSO portal; `code` is AWS's error code
    (`AuthorizationPendingException`, `SlowDownException`, `InvalidGrantException`, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class SsoApi:
    """The unsigned calls of a sign-in, for one SSO region. `start_url` is the start URL
    SSO-OIDC is given (RegisterClient's `issuerUrl`, StartDeviceAuthorization's
    `startUrl`): a vanity URL's resolution, or None for the configured one.

    Error answers become `OidcError` (the flows act on their codes); every other failure
    goes through the one translator."""

    def __init__(
        self, region: str, profile: str | None = None, *, start_url: str | None = None
    ) -> None:
        self.region = region
        self.start_url = start_url
        self._profile = profile
        session = aws.make_session(profile)
        self._oidc = aws.make_client(session, service="sso-oidc", region=region, unsigned=True)
        self._portal = aws.make_client(session, service="sso", region=region, unsigned=True)

    @classmethod
    def for_session(
        cls, session: SsoSession, profile: str | None, environ: Mapping[str, str]
    ) -> SsoApi:
        """The API a sign-in to `session` talks to: a vanity start URL is resolved first
        (one bounded request), and its region is the resolved host's."""
        from credhelper.sso import start_url

        resolved = start_url.resolve(session.start_url, session.region, environ)
        if resolved.url == session.start_url:
            return cls(session.region, profile)
        return cls(resolved.region, profile, start_url=resolved.url)

    @property
    def endpoint_url(self) -> str:
        """SSO-OIDC's endpoint, where the authorize page lives too."""
        return aws.endpoint_of(self._oidc)

    def register_client(self, **params: Any) -> dict[str, Any]:
        return self._call(self._oidc.register_client, "RegisterClient", params)

    def start_device_authorization(self, **params: Any) -> dict[str, Any]:
        return self._call(self._oidc.start_device_authorization, "StartDeviceAuthorization", params)

    def create_token(self, **params: Any) -> dict[str, Any]:
        return self._call(self._oidc.create_token, "CreateToken", params)

    def logout(self, access_token: str) -> None:
        self._call(self._portal.logout, "Logout", {"accessToken": access_token})

    def _call(self, method: Any, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            reply = method(**params)
        except Exception as err:  # noqa: BLE001 - every botocore failure becomes ours
            raise _error(err, operation, self._profile) from None
        return dict(reply)


def _error(err: Exception, operation: str, profile: str | None) -> errors.EcrSsoError:
    code = aws.client_error_code(err)
    if code is not None:
        # SSO-OIDC's errors carry `error_description`; the portal's `Message`.
        response = getattr(err, "response", {})
        detail = response.get("Error", {}).get("Message") or response.get("error_description")
        return OidcError(code, f"{operation} failed: {code}" + (f": {detail}" if detail else ""))
    if type(err).__name__ == "ProfileNotFound":
        return errors.ConfigError(f"{err}; check AWS_PROFILE and the AWS config")
    return aws.translate(err, None, profile, service="AWS SSO", purpose=f"for {operation}")
