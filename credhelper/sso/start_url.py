"""Vanity start URLs, resolved as the AWS CLI resolves them: a start URL on a host of the
organisation's own (`https://sso.example.com/start`) is fetched once, without following
the redirect; the one redirect it answers with must lead to the AWS access portal on an
AWS-owned host, and that URL (and the region its host names, if it names one) is what
SSO-OIDC is given. The configured URL stays the token file's `startUrl` and cache key,
so the AWS CLI and botocore find the login.

A start URL already on an AWS-owned host is used as is, with no request. The one request
is bounded (`TIMEOUT`), uses the CA bundle botocore would (`AWS_CA_BUNDLE`) and the proxy
variables, and never sends anything but a plain GET. A redirect anywhere else, or a
failure, is one line naming the URL.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from credhelper.errors import ConfigError, Unreachable
from credhelper.registry import REGION

log = logging.getLogger(__name__)

#: Seconds to wait for the start URL's host.
TIMEOUT = 5.0
#: DNS suffixes of the hosts AWS serves the access portal from: `*.awsapps.com` (and
#: GovCloud's `*.us-gov-home.awsapps.com`), China's `*.awsapps.cn`, and IAM Identity
#: Center's regional portals `*.portal.<region>.app.aws`.
AWS_PORTAL_SUFFIXES = ("awsapps.com", "awsapps.cn", "app.aws")


@dataclass(frozen=True)
class Resolved:
    """The start URL to give SSO-OIDC, and the SSO region to ask."""

    url: str
    region: str


def aws_owned(host: str | None) -> bool:
    """Whether `host` is one of AWS's access-portal hosts (by name: never resolved)."""
    if not host:
        return False
    host = host.lower().rstrip(".")
    return any(host.endswith("." + suffix) for suffix in AWS_PORTAL_SUFFIXES)


def region_of(host: str, default: str) -> str:
    """The region an AWS portal host names (`ssoins-1.portal.eu-central-1.app.aws`,
    `start.us-gov-west-1.us-gov-home.awsapps.com`), else `default`."""
    for label in host.lower().split("."):
        if REGION.fullmatch(label):
            return label
    return default


def resolve(url: str, region: str, environ: Mapping[str, str]) -> Resolved:
    """The start URL and SSO region SSO-OIDC is to be given for the configured `url` and
    `region` (see the module docstring)."""
    if aws_owned(urlsplit(url).hostname):
        return Resolved(url, region)
    status, location = _fetch(url, environ)
    if not 300 <= status < 400:
        if 200 <= status < 300:
            # Not a vanity URL after all: no redirect to follow, so use it as configured.
            log.info("the start URL %s answers without a redirect; using it as is", url)
            return Resolved(url, region)
        raise ConfigError(
            f"the start URL {url} answered HTTP {status}, not a redirect to the AWS access"
            " portal; check sso_start_url"
        )
    if not location:
        raise ConfigError(f"the start URL {url} redirects nowhere (no Location); check it")
    target = urljoin(url, location)
    parts = urlsplit(target)
    if parts.scheme != "https" or not aws_owned(parts.hostname):
        raise ConfigError(
            f"the start URL {url} redirects to {parts.scheme}://{parts.netloc}, which is not"
            " an AWS access portal (https, *.awsapps.com, *.awsapps.cn or *.app.aws);"
            " refusing to sign in there"
        )
    resolved = Resolved(target, region_of(parts.hostname or "", region))
    log.info("the start URL %s resolves to %s (%s)", url, resolved.url, resolved.region)
    return resolved


def _fetch(url: str, environ: Mapping[str, str]) -> tuple[int, str | None]:
    """(HTTP status, Location) of one GET of `url`, redirects not followed."""
    import ssl
    import urllib.error
    import urllib.request

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None  # the caller decides about the one redirect; none is followed

    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"the start URL {url!r} is not an http(s) URL; check sso_start_url")
    bundle = environ.get("AWS_CA_BUNDLE") or None
    try:
        context = ssl.create_default_context(cafile=bundle)
    except OSError as err:
        raise ConfigError(f"AWS_CA_BUNDLE {bundle}: {err.strerror or err}") from None
    opener = urllib.request.build_opener(
        _NoRedirect(), urllib.request.HTTPSHandler(context=context)
    )
    request = urllib.request.Request(url, method="GET")  # noqa: S310 - http(s) checked above
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            return int(response.status), response.headers.get("Location")
    except urllib.error.HTTPError as err:  # a 3xx not followed arrives here too
        return int(err.code), err.headers.get("Location")
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise Unreachable(
            f"cannot reach the start URL {url} within {TIMEOUT:g} s ({reason});"
            " network, proxy or VPN?"
        ) from None
