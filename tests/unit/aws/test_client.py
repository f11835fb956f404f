"""The botocore edge in-process: which endpoint a registry's token comes from, and how
botocore's failures become one actionable line. No AWS call is made here."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ProfileNotFound,
    SSOTokenLoadError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)

from credhelper import errors
from credhelper.aws import client as aws
from credhelper.registry import Registry, parse_address, parse_registry


def registry(host: str) -> Registry:
    address = parse_address(host)
    assert address is not None
    parsed = parse_registry(address)
    assert parsed is not None
    return parsed


@pytest.mark.parametrize(
    ("host", "endpoint"),
    [
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "https://api.ecr.eu-west-1.amazonaws.com"),
        (
            "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
            "https://ecr-fips.us-gov-west-1.amazonaws.com",
        ),
        ("123456789012.dkr-ecr-fips.us-west-2.on.aws", "https://ecr-fips.us-west-2.amazonaws.com"),
        (
            "210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn",
            "https://api.ecr.cn-north-1.amazonaws.com.cn",
        ),
        ("public.ecr.aws", "https://api.ecr-public.us-east-1.amazonaws.com"),
    ],
)
def test_token_endpoint_per_host(host: str, endpoint: str) -> None:
    client = aws.make_client(aws.make_session(None), registry(host))

    assert client.meta.endpoint_url == endpoint


def test_sessions_have_bounded_timeouts_and_retries() -> None:
    session = aws.make_session(None)
    client = aws.make_client(session, registry("public.ecr.aws"))

    assert client.meta.config.connect_timeout == aws.CONNECT_TIMEOUT
    assert client.meta.config.read_timeout == aws.READ_TIMEOUT
    assert client.meta.config.retries["total_max_attempts"] == aws.MAX_ATTEMPTS
    # The SSO client botocore makes for itself gets the same bounds through the default.
    assert session.get_default_client_config().connect_timeout == aws.CONNECT_TIMEOUT


DEV = registry("111111111111.dkr.ecr.eu-west-1.amazonaws.com")


def client_error(code: str, operation: str = "GetAuthorizationToken") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, operation)


@pytest.mark.parametrize(
    ("err", "kind", "start"),
    [
        (ProfileNotFound(profile="dev"), errors.UnknownProfile, "AWS profile 'dev' is not in"),
        (SSOTokenLoadError(error_msg="x"), errors.LoginRequired, "the SSO login for profile 'dev'"),
        (UnauthorizedSSOTokenError(), errors.LoginRequired, "the SSO login for profile 'dev'"),
        (TokenRetrievalError(provider="sso", error_msg="x"), errors.LoginRequired, "the SSO login"),
        (NoCredentialsError(), errors.NoCredentials, "no AWS credentials for"),
        (
            EndpointConnectionError(endpoint_url="https://x"),
            errors.Unreachable,
            "cannot reach AWS at https://x",
        ),
        (
            client_error("AccessDeniedException"),
            errors.AccessDenied,
            "access denied: profile 'dev'",
        ),
        (
            client_error("ForbiddenException", "GetRoleCredentials"),
            errors.AccessDenied,
            "access denied",
        ),
        (client_error("ThrottlingException"), errors.Throttled, "AWS is throttling"),
        (
            client_error("UnauthorizedException", "GetRoleCredentials"),
            errors.LoginRequired,
            "the SSO login",
        ),
        (client_error("ServerException"), errors.AwsError, "GetAuthorizationToken failed for"),
    ],
)
def test_translate(err: Exception, kind: type, start: str) -> None:
    translated = aws.translate(err, DEV, "dev")

    assert type(translated) is kind
    assert str(translated).startswith(start)
    assert "\n" not in str(translated)


def test_translate_default_chain_login_hint() -> None:
    translated = aws.translate(UnauthorizedSSOTokenError(), DEV, None)

    assert str(translated) == (
        "the SSO login for the default credential chain is missing or expired; run `ecr-sso login`"
    )


def test_translate_names_the_endpoint_and_the_profile() -> None:
    # The endpoint's scheme and host only: a call's path and query are not the endpoint.
    far = EndpointConnectionError(endpoint_url="https://api.ecr.eu-west-1.amazonaws.com/x?y=1")

    for_registry = aws.translate(far, DEV, "dev")
    for_sts = aws.translate(
        far, None, "dev", service="AWS STS", purpose="for the account of profile 'dev'"
    )

    assert str(for_registry) == (
        "cannot reach AWS at https://api.ecr.eu-west-1.amazonaws.com for"
        " 111111111111.dkr.ecr.eu-west-1.amazonaws.com with profile 'dev'"
        " (network, proxy or VPN?)"
    )
    assert str(for_sts) == (
        "cannot reach AWS STS at https://api.ecr.eu-west-1.amazonaws.com for the account of"
        " profile 'dev' (network, proxy or VPN?)"
    )


def test_translate_without_a_registry() -> None:
    denied = aws.translate(
        client_error("AccessDenied", "GetCallerIdentity"), None, "dev", service="AWS STS"
    )
    no_credentials = aws.translate(NoCredentialsError(), None, "dev", service="AWS STS")

    assert type(denied) is errors.AccessDenied
    assert str(denied) == "access denied: profile 'dev' may not call GetCallerIdentity"
    assert type(no_credentials) is errors.NoCredentials
    assert (
        str(no_credentials)
        == "profile 'dev' yields no AWS credentials (AWS STS with profile 'dev')"
    )
