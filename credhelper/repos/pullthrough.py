"""ECR's pull-through cache for Docker Hub: the Secrets Manager secret holding the Docker
Hub login, the cache rule, the repository creation template, and who may pull through it.

ECR demands the secret's name start with `ecr-pullthroughcache/`; its value is JSON with
`username` and `accessToken`. Official images keep Docker Hub's own `library/` path in the
cache: `HOST/PREFIX/library/python:3.12` (see `imageref.to_pull_through`).

`setup` is idempotent: what exists and matches is kept, said so, and not touched; an
existing secret keeps its value unless asked to replace it (a re-run needs no login).
`status` reads; it never reads the secret's value (DescribeSecret only).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from credhelper import errors
from credhelper.aws import client as aws
from credhelper.repos import ecr as ecr_api
from credhelper.repos.dockerhub_login import Login
from credhelper.repos.target import Target
from credhelper.repos.teamkeys import PullThrough

log = logging.getLogger(__name__)

SECRET_PREFIX = "ecr-pullthroughcache/"  # noqa: S105 - the name prefix ECR requires
#: ECR's upstream registry names and their URLs; only Docker Hub needs our secret here.
UPSTREAMS = {
    "docker-hub": "registry-1.docker.io",
    "ecr-public": "public.ecr.aws",
    "quay": "quay.io",
    "k8s": "registry.k8s.io",
}
NEEDS_CREDENTIALS = frozenset({"docker-hub"})
#: What an account needs from the cache's registry to pull through it: the first pull of
#: an image creates its repository and imports it (registry policy); every pull reads it
#: (the repository's policy, which the creation template gives each new repository).
IMPORT_ACTIONS = ("ecr:BatchImportUpstreamImage", "ecr:CreateRepository")
PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")

CREATED = "created"
UPDATED = "updated"
KEPT = "kept"


@dataclass(frozen=True)
class Step:
    """One thing setup looked after: what, its name, and what happened to it."""

    what: str
    name: str
    result: str


def secret_name(prefix: str) -> str:
    """The secret ECR reads the upstream login from, for cache rule `prefix`."""
    return SECRET_PREFIX + prefix


def upstream_url(upstream: str) -> str:
    """The upstream registry's URL; UsageError for a name we do not set up."""
    url = UPSTREAMS.get(upstream)
    if url is None:
        raise errors.UsageError(
            f"upstream {upstream!r} is not one of {', '.join(sorted(UPSTREAMS))}"
        )
    return url


class Api:
    """The ECR and Secrets Manager calls, in one target registry's account and region."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._session: Any = None
        self._clients: dict[str, Any] = {}

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            if self._session is None:
                self._session = aws.make_session(self.target.profile)
            if service == "ecr":
                made = aws.make_client(self._session, self.target.registry)
            else:
                made = self._session.create_client(service, region_name=self.target.registry.region)
            self._clients[service] = made
        return self._clients[service]

    def call(self, service: str, operation: str, *, missing: str = "", **params: Any) -> Any:
        """`operation` of `service`; None when the error code is `missing` (not there)."""
        from botocore.exceptions import BotoCoreError, ClientError

        if service == "ecr":
            params.setdefault("registryId", self.target.account)
            if params["registryId"] is None:  # operations without the parameter
                del params["registryId"]
        try:
            return getattr(self._client(service), operation)(**params)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if missing and code == missing:
                return None
            raise self._translate(err, service, code) from None
        except BotoCoreError as err:
            raise ecr_api.translate(err, self.target, None, self._session) from None

    def _translate(self, err: Exception, service: str, code: str) -> errors.EcrSsoError:
        operation = getattr(err, "operation_name", "") or "the request"
        if code in ("AccessDeniedException", "AccessDenied"):
            return errors.AccessDenied(
                f"access denied: {self.target.who} may not {service}:{operation} in account"
                f" {self.target.account}"
            )
        if service != "ecr":
            # Secrets Manager's messages name the secret, never its value.
            message = getattr(err, "response", {}).get("Error", {}).get("Message", "")
            return errors.AwsError(f"{service} {operation} failed: {code}: {message}")
        return ecr_api.translate(err, self.target, None, self._session)

    # -- the secret --------------------------------------------------------------------

    def secret_arn(self, name: str) -> str | None:
        reply = self.call(
            "secretsmanager", "describe_secret", missing="ResourceNotFoundException", SecretId=name
        )
        return None if reply is None else str(reply["ARN"])

    def write_secret(self, name: str, login: Login, *, exists: bool) -> str:
        value = json.dumps({"username": login.username, "accessToken": login.token})
        if exists:
            reply = self.call(
                "secretsmanager", "put_secret_value", SecretId=name, SecretString=value
            )
        else:
            reply = self.call(
                "secretsmanager",
                "create_secret",
                Name=name,
                Description="Docker Hub login for ECR's pull-through cache (ecr-sso)",
                SecretString=value,
            )
        return str(reply["ARN"])

    # -- the rule, the template, the policies ------------------------------------------

    def rule(self, prefix: str) -> dict[str, Any] | None:
        reply = self.call(
            "ecr",
            "describe_pull_through_cache_rules",
            missing="PullThroughCacheRuleNotFoundException",
            ecrRepositoryPrefixes=[prefix],
        )
        rules = (reply or {}).get("pullThroughCacheRules") or []
        return dict(rules[0]) if rules else None

    def template(self, prefix: str) -> dict[str, Any] | None:
        reply = self.call(
            "ecr",
            "describe_repository_creation_templates",
            missing="TemplateNotFoundException",
            registryId=None,
            prefixes=[prefix],
        )
        templates = (reply or {}).get("repositoryCreationTemplates") or []
        return dict(templates[0]) if templates else None

    def template_policy(self, prefix: str) -> dict[str, Any] | None:
        """The repository policy the creation template gives new cache repositories."""
        found = self.template(prefix)
        return _policy(found.get("repositoryPolicy")) if found else None

    def registry_policy(self) -> dict[str, Any] | None:
        reply = self.call(
            "ecr", "get_registry_policy", missing="RegistryPolicyNotFoundException", registryId=None
        )
        return _policy(reply.get("policyText")) if reply else None


def setup(
    api: Api,
    settings: PullThrough,
    *,
    login: Callable[[], Login],
    replace_secret: bool = False,
) -> list[Step]:
    """Make the secret, the rule and (when asked for) the template; what was done to each."""
    url = upstream_url(settings.upstream)
    current = api.rule(settings.prefix)
    if current is not None and current.get("upstreamRegistryUrl") != url:
        # Found before anything is written: a conflict leaves no secret behind.
        raise errors.Conflict(
            f"the pull-through rule '{settings.prefix}' in {api.target.host} already caches"
            f" {current.get('upstreamRegistryUrl')}; choose another --prefix"
        )
    steps: list[Step] = []
    arn: str | None = None
    if settings.upstream in NEEDS_CREDENTIALS:
        name = secret_name(settings.prefix)
        arn = api.secret_arn(name)
        if arn is None:
            arn = api.write_secret(name, login(), exists=False)
            steps.append(Step("secret", name, CREATED))
        elif replace_secret:
            arn = api.write_secret(name, login(), exists=True)
            steps.append(Step("secret", name, UPDATED))
        else:
            steps.append(Step("secret", name, KEPT))
    steps.append(
        _rule(api, current, prefix=settings.prefix, upstream=settings.upstream, url=url, arn=arn)
    )
    if settings.tag_immutability is not None or settings.lifecycle_days is not None:
        steps.append(_template(api, settings))
    if settings.scan_on_push:
        steps.append(_scanning(api, settings.prefix))
    return steps


def _rule(
    api: Api,
    current: dict[str, Any] | None,
    *,
    prefix: str,
    upstream: str,
    url: str,
    arn: str | None,
) -> Step:
    if current is None:
        params: dict[str, Any] = {
            "ecrRepositoryPrefix": prefix,
            "upstreamRegistryUrl": url,
            "upstreamRegistry": upstream,
        }
        if arn:
            params["credentialArn"] = arn
        api.call("ecr", "create_pull_through_cache_rule", **params)
        return Step("rule", prefix, CREATED)
    if arn and current.get("credentialArn") != arn:
        api.call(
            "ecr", "update_pull_through_cache_rule", ecrRepositoryPrefix=prefix, credentialArn=arn
        )
        return Step("rule", prefix, UPDATED)
    return Step("rule", prefix, KEPT)


def template_fields(settings: PullThrough) -> dict[str, Any]:
    """The creation template's settings that `[pull_through]` asks for."""
    wanted: dict[str, Any] = {}
    if settings.tag_immutability is not None:
        wanted["imageTagMutability"] = "IMMUTABLE" if settings.tag_immutability else "MUTABLE"
    if settings.lifecycle_days is not None:
        wanted["lifecyclePolicy"] = json.dumps(
            {
                "rules": [
                    {
                        "rulePriority": 1,
                        "description": f"expire cached images after {settings.lifecycle_days} days",
                        "selection": {
                            "tagStatus": "any",
                            "countType": "sinceImagePushed",
                            "countUnit": "days",
                            "countNumber": settings.lifecycle_days,
                        },
                        "action": {"type": "expire"},
                    }
                ]
            },
            sort_keys=True,
        )
    return wanted


def _template(api: Api, settings: PullThrough) -> Step:
    wanted = template_fields(settings)
    current = api.template(settings.prefix)
    description = "ecr-sso pull-through cache"
    if current is None:
        api.call(
            "ecr",
            "create_repository_creation_template",
            registryId=None,
            prefix=settings.prefix,
            description=description,
            appliedFor=["PULL_THROUGH_CACHE"],
            **wanted,
        )
        return Step("template", settings.prefix, CREATED)
    if all(_same(current.get(key), value) for key, value in wanted.items()):
        return Step("template", settings.prefix, KEPT)
    api.call(
        "ecr",
        "update_repository_creation_template",
        registryId=None,
        prefix=settings.prefix,
        appliedFor=list(current.get("appliedFor") or ["PULL_THROUGH_CACHE"]),
        **wanted,
    )
    return Step("template", settings.prefix, UPDATED)


def _same(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, str) and wanted.startswith("{"):
        return _policy(current) == _policy(wanted)
    return bool(current == wanted)


def _scanning(api: Api, prefix: str) -> Step:
    """A scan-on-push filter for the cache's repositories in the registry's scanning
    configuration (creation templates carry no scanning setting), other rules kept."""
    reply = api.call("ecr", "get_registry_scanning_configuration", registryId=None)
    current = (reply or {}).get("scanningConfiguration") or {}
    rules = [dict(rule) for rule in current.get("rules") or []]
    wanted = {"filter": f"{prefix}/*", "filterType": "WILDCARD"}
    on_push = next((r for r in rules if r.get("scanFrequency") == "SCAN_ON_PUSH"), None)
    if on_push is not None and wanted in (on_push.get("repositoryFilters") or []):
        return Step("scan on push", wanted["filter"], KEPT)
    if on_push is None:
        rules.append({"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [wanted]})
    else:
        on_push["repositoryFilters"] = [*(on_push.get("repositoryFilters") or []), wanted]
    api.call(
        "ecr",
        "put_registry_scanning_configuration",
        registryId=None,
        scanType=current.get("scanType") or "BASIC",
        rules=rules,
    )
    return Step("scan on push", wanted["filter"], UPDATED)


# -- who may pull through ----------------------------------------------------------------


def allows(policy: dict[str, Any] | None, account: str, actions: Iterable[str]) -> list[str]:
    """The `actions` that `policy` does not allow to `account` (all of them without one).
    Reads Allow statements only; a Deny elsewhere is not weighed."""
    missing = []
    for action in actions:
        if not any(_grants(s, account, action) for s in (policy or {}).get("Statement", [])):
            missing.append(action)
    return missing


def _grants(statement: Any, account: str, action: str) -> bool:
    if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
        return False
    principal = statement.get("Principal")
    principals = _strings(principal.get("AWS") if isinstance(principal, dict) else principal)
    if not any(p in ("*", account, f"arn:aws:iam::{account}:root") for p in principals):
        return False
    service = action.split(":", 1)[0]
    return any(a in (action, f"{service}:*", "*") for a in _strings(statement.get("Action")))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value]
    return []


def _policy(text: Any) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    try:
        parsed = json.loads(text) if isinstance(text, str) else {}
    except ValueError:
        return {}
    if isinstance(parsed, dict) and isinstance(parsed.get("Statement"), dict):
        parsed["Statement"] = [parsed["Statement"]]
    return parsed if isinstance(parsed, dict) else {}
