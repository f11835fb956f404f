"""ECR's pull-through cache, creation template, registry policy and registry scanning
operations, which moto lacks, added to the fake AWS through its extension points.

State is per registry account (the `registryId` parameter, else the caller's account) and
cleared on every `FakeAWS.reset()`. Operations record their calls in `FakeAWS.calls`
under their own names. A rule for Docker Hub needs a `credentialArn` naming a secret
whose name starts with `ecr-pullthroughcache/`, as ECR insists.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from typing import Any

from fakeaws import FakeAWS, Request, Response, json_error

_ECR_TARGET = "AmazonEC2ContainerRegistry_V20150921"
_JSON_11 = "application/x-amz-json-1.1"
_CREDENTIALED = {"registry-1.docker.io", "ghcr.io", "registry.gitlab.com"}


class PullThroughFake:
    """The extension's state; `install` adds its operations to a FakeAWS."""

    def __init__(self, fake: FakeAWS) -> None:
        self.fake = fake
        self._lock = threading.Lock()
        self.rules: dict[tuple[str, str], dict[str, Any]] = {}
        self.templates: dict[tuple[str, str], dict[str, Any]] = {}
        self.registry_policies: dict[str, str] = {}
        self.scanning: dict[str, dict[str, Any]] = {}

    def install(self) -> PullThroughFake:
        operations = {
            "DescribePullThroughCacheRules": self._describe_rules,
            "CreatePullThroughCacheRule": self._create_rule,
            "UpdatePullThroughCacheRule": self._update_rule,
            "DescribeRepositoryCreationTemplates": self._describe_templates,
            "CreateRepositoryCreationTemplate": self._create_template,
            "UpdateRepositoryCreationTemplate": self._update_template,
            "GetRegistryPolicy": self._get_registry_policy,
            "GetRegistryScanningConfiguration": self._get_scanning,
            "PutRegistryScanningConfiguration": self._put_scanning,
        }
        for name, handler in operations.items():
            self.fake.add_json_target(f"{_ECR_TARGET}.{name}", self._wrap(name, handler))
        #: The ECR operations this extension answers (a front before moto routes them here).
        self.operations = tuple(operations)
        self.fake.add_reset_hook(self.reset)
        return self

    def reset(self) -> None:
        with self._lock:
            self.rules.clear()
            self.templates.clear()
            self.registry_policies.clear()
            self.scanning.clear()

    def _wrap(self, name: str, handler: Any) -> Any:
        def serve(request: Request) -> Response:
            failure, call = self.fake._ecr_preamble(request, name)
            if failure is not None:
                return failure
            assert call.akid is not None
            account = call.params.get("registryId") or self.fake.caller(call.akid)[0]
            with self._lock:
                status, body = handler(account, call.params)
            if status != 200:
                return json_error(body["__type"], body["message"])
            return Response(200, body, content_type=_JSON_11)

        return serve

    # -- rules ------------------------------------------------------------------------

    def _describe_rules(self, account: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        prefixes = params.get("ecrRepositoryPrefixes")
        found = [
            copy.deepcopy(rule)
            for (owner, prefix), rule in sorted(self.rules.items())
            if owner == account and (prefixes is None or prefix in prefixes)
        ]
        if prefixes and not found:
            return _error("PullThroughCacheRuleNotFoundException", "rule not found")
        return 200, {"pullThroughCacheRules": found}

    def _create_rule(self, account: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        prefix = params["ecrRepositoryPrefix"]
        if (account, prefix) in self.rules:
            return _error("PullThroughCacheRuleAlreadyExistsException", f"{prefix} exists")
        url = params["upstreamRegistryUrl"]
        arn = params.get("credentialArn", "")
        if url in _CREDENTIALED and ":secret:ecr-pullthroughcache/" not in arn:
            return _error(
                "InvalidParameterException",
                "credentialArn must name a secret with the prefix ecr-pullthroughcache/",
            )
        rule = {
            "registryId": account,
            "ecrRepositoryPrefix": prefix,
            "upstreamRegistryUrl": url,
            "upstreamRegistry": params.get("upstreamRegistry", ""),
            "createdAt": time.time(),
        }
        if arn:
            rule["credentialArn"] = arn
        self.rules[(account, prefix)] = rule
        return 200, copy.deepcopy(rule)

    def _update_rule(self, account: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        rule = self.rules.get((account, params["ecrRepositoryPrefix"]))
        if rule is None:
            return _error("PullThroughCacheRuleNotFoundException", "rule not found")
        rule["credentialArn"] = params["credentialArn"]
        return 200, copy.deepcopy(rule)

    # -- templates --------------------------------------------------------------------

    def _describe_templates(
        self, account: str, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        prefixes = params.get("prefixes")
        found = [
            copy.deepcopy(template)
            for (owner, prefix), template in sorted(self.templates.items())
            if owner == account and (not prefixes or prefix in prefixes)
        ]
        return 200, {"registryId": account, "repositoryCreationTemplates": found}

    def _create_template(self, account: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        prefix = params["prefix"]
        if (account, prefix) in self.templates:
            return _error("TemplateAlreadyExistsException", f"{prefix} exists")
        template = {k: v for k, v in params.items() if k != "registryId"}
        template.setdefault("imageTagMutability", "MUTABLE")
        self.templates[(account, prefix)] = template
        return 200, {"registryId": account, "repositoryCreationTemplate": copy.deepcopy(template)}

    def _update_template(self, account: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        template = self.templates.get((account, params["prefix"]))
        if template is None:
            return _error("TemplateNotFoundException", "template not found")
        template.update({k: v for k, v in params.items() if k != "registryId"})
        return 200, {"registryId": account, "repositoryCreationTemplate": copy.deepcopy(template)}

    # -- registry-wide settings ---------------------------------------------------------

    def _get_registry_policy(
        self, account: str, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        text = self.registry_policies.get(account)
        if text is None:
            return _error("RegistryPolicyNotFoundException", "no registry policy")
        return 200, {"registryId": account, "policyText": text}

    def _get_scanning(self, account: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        config = self.scanning.get(account, {"scanType": "BASIC", "rules": []})
        return 200, {"registryId": account, "scanningConfiguration": copy.deepcopy(config)}

    def _put_scanning(self, account: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        config = {"scanType": params.get("scanType", "BASIC"), "rules": params.get("rules", [])}
        self.scanning[account] = copy.deepcopy(config)
        return 200, {"registryScanningConfiguration": {"registryId": account, **config}}


def _error(code: str, message: str) -> tuple[int, dict[str, Any]]:
    return 400, {"__type": code, "message": message}


def policy(statements: list[dict[str, Any]]) -> str:
    """An IAM policy document's text."""
    return json.dumps({"Version": "2012-10-17", "Statement": statements})
