"""`ecr-sso pull-through setup` and `pull-through status`: ECR's pull-through cache for
Docker Hub images.

Argument parsing, the login prompt and printing only; the work is
`credhelper.repos.pullthrough`.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from credhelper.cli import output, registry_args
from credhelper.cli.context import Context
from credhelper.errors import UsageError

if TYPE_CHECKING:
    from credhelper.repos.dockerhub_login import Login
    from credhelper.repos.target import Target
    from credhelper.repos.teamkeys import PullThrough


_DESCRIPTION = """\
ECR's pull-through cache for Docker Hub, so public images (python, nginx, bitnami/redis)
come from your registry instead of Docker Hub and its pull rate limits:
  HOST/PREFIX/library/python:3.12

setup creates, where missing, the Secrets Manager secret ecr-pullthroughcache/PREFIX with
your Docker Hub username and access token (from the login `docker login` left, found
through Docker's config; else asked for on the terminal, without echo; never from the
command line), the cache rule, and, when our config's [pull_through] table asks for them,
a repository creation template (tag_immutability, lifecycle_days) and a scan-on-push
filter (scan_on_push). Run again, it changes nothing.

status shows the rule, whether the secret exists (never its value), the template, and
whether the accounts of your other AWS profiles may pull through the cache (the registry
policy and the template's repository policy).

[pull_through] in our config (prefix, upstream, profile, ...) gives the defaults, and
makes `ecr-sso url` and `ecr-sso rewrite` use the cache's paths."""


def register(subparsers: Any) -> None:
    """Add `pull-through setup` and `pull-through status`."""
    group = subparsers.add_parser(
        "pull-through",
        help="set up and check ECR's pull-through cache for Docker Hub",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    where = registry_args.options("the registry of this AWS profile ([pull_through] profile)")
    cache = argparse.ArgumentParser(add_help=False)
    cache.add_argument("--prefix", metavar="PREFIX", help="repository prefix (docker-hub)")
    cache.add_argument("--json", action="store_true", help="print JSON, for scripts")
    setup = actions.add_parser(
        "setup",
        help="create the secret, the rule and the template",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[where, cache],
    )
    setup.add_argument("--upstream", metavar="NAME", help="upstream registry (docker-hub)")
    setup.add_argument(
        "--replace-secret",
        action="store_true",
        help="write the Docker Hub login into an existing secret (a new access token)",
    )
    setup.set_defaults(handler=run_setup)
    status = actions.add_parser(
        "status",
        help="show the rule, the secret and who may pull through",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[where, cache],
    )
    status.set_defaults(handler=run_status)


def _cache(args: argparse.Namespace, context: Context) -> tuple[PullThrough, Target, bool]:
    """The cache's settings (options over [pull_through] over defaults), its registry, and
    whether our config has a [pull_through] table."""
    from dataclasses import replace

    from credhelper.repos import teamkeys

    settings = registry_args.settings(context)
    configured = teamkeys.pull_through(settings)
    cache = configured or teamkeys.PullThrough()
    if args.prefix:
        cache = replace(cache, prefix=teamkeys.check_prefix(args.prefix))
    if getattr(args, "upstream", None):
        cache = replace(cache, upstream=args.upstream)
    target = registry_args.target(
        context, profile=args.profile or cache.profile, registry=args.registry, region=args.region
    )
    return cache, target, configured is not None


def run_setup(args: argparse.Namespace, context: Context) -> int:
    from credhelper.repos import pullthrough

    cache, target, configured = _cache(args, context)
    pullthrough.upstream_url(cache.upstream)  # a bad --upstream fails before any call
    steps = pullthrough.setup(
        pullthrough.Api(target),
        cache,
        login=lambda: _login(context),
        replace_secret=args.replace_secret,
    )
    example = f"{target.host}/{cache.prefix}/library/python:3.12"
    if args.json:
        output.as_json(
            context.out,
            {
                "registry": target.host,
                "steps": [{"what": s.what, "name": s.name, "result": s.result} for s in steps],
                "example": example,
            },
        )
    else:
        output.table(
            context.out, ("WHAT", "NAME", "RESULT"), [(s.what, s.name, s.result) for s in steps]
        )
        output.line(context.err, f"pull-through: official images are now at {example}")
    if not configured:
        output.line(
            context.err,
            f'pull-through: add [pull_through] with prefix = "{cache.prefix}" to'
            f" {registry_args.settings(context).path} so that `ecr-sso url` and"
            " `ecr-sso rewrite` use the cache",
        )
    return 0


def _login(context: Context) -> Login:
    """The Docker Hub login: Docker's, else asked for on the terminal."""
    from credhelper.repos import dockerhub_login

    found = dockerhub_login.find(context.paths.docker_config_file, context.environ)
    if found is not None:
        output.line(
            context.err, f"pull-through: Docker Hub login of {found.username} from {found.source}"
        )
        return found
    if not context.interactive:
        raise UsageError(
            "no Docker Hub login found in Docker's config and no terminal to ask on: run"
            " `docker login` first (with an access token from Docker Hub's settings)"
        )
    import getpass

    context.err.write("Docker Hub username: ")
    context.err.flush()
    username = input().strip()
    token = getpass.getpass("Docker Hub access token (not shown): ", stream=context.err).strip()
    if not username or not token:
        raise UsageError("a Docker Hub username and access token are both needed")
    return dockerhub_login.Login(username, token, "the terminal")


def run_status(args: argparse.Namespace, context: Context) -> int:
    from credhelper.aws import config as aws_config
    from credhelper.repos import pullthrough

    cache, target, _ = _cache(args, context)
    api = pullthrough.Api(target)
    rule = api.rule(cache.prefix)
    secret = pullthrough.secret_name(cache.prefix)
    secret_arn = api.secret_arn(secret) if cache.upstream in pullthrough.NEEDS_CREDENTIALS else None
    template = api.template(cache.prefix)
    registry_policy = api.registry_policy()
    template_policy = api.template_policy(cache.prefix)
    accounts = _other_accounts(
        aws_config.read(context.paths.aws_config_file).profiles, target.account
    )
    shared = []
    for account, names in accounts.items():
        missing = pullthrough.allows(registry_policy, account, pullthrough.IMPORT_ACTIONS)
        missing += pullthrough.allows(template_policy, account, pullthrough.PULL_ACTIONS)
        shared.append(
            {"account": account, "profiles": names, "canPull": not missing, "missing": missing}
        )
    report = {
        "registry": target.host,
        "prefix": cache.prefix,
        "rule": None
        if rule is None
        else {
            "upstreamRegistryUrl": rule.get("upstreamRegistryUrl"),
            "credentialArn": rule.get("credentialArn"),
        },
        "secret": {"name": secret, "exists": secret_arn is not None},
        "template": None
        if template is None
        else {
            "imageTagMutability": template.get("imageTagMutability"),
            "lifecyclePolicy": bool(template.get("lifecyclePolicy")),
        },
        "example": f"{target.host}/{cache.prefix}/library/python:3.12",
        "accounts": shared,
    }
    if args.json:
        output.as_json(context.out, report)
    else:
        _print_status(report, context)
    return (
        0
        if rule is not None
        and (secret_arn is not None or cache.upstream not in pullthrough.NEEDS_CREDENTIALS)
        else 1
    )


def _print_status(report: dict[str, Any], context: Context) -> None:
    rule, secret, template = report["rule"], report["secret"], report["template"]
    rows = [
        ("registry", report["registry"]),
        (
            "rule",
            f"{report['prefix']} → {rule['upstreamRegistryUrl']}"
            if rule
            else "none: run `ecr-sso pull-through setup`",
        ),
        ("secret", f"{secret['name']}: " + ("exists" if secret["exists"] else "missing")),
        (
            "template",
            f"tags {str(template['imageTagMutability']).lower()}, lifecycle policy "
            + ("yes" if template["lifecyclePolicy"] else "no")
            if template
            else "none",
        ),
        ("pull as", report["example"]),
    ]
    for entry in report["accounts"]:
        who = f"{', '.join(entry['profiles'])} ({entry['account']})"
        verdict = (
            "can pull through"
            if entry["canPull"]
            else "cannot pull through: policies lack " + ", ".join(entry["missing"])
        )
        rows.append(("account", f"{who}: {verdict}"))
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        output.line(context.out, f"{key.ljust(width)}  {value}")


def _other_accounts(profiles: Mapping[str, Mapping[str, str]], own: str) -> dict[str, list[str]]:
    """account → its profiles, for every account of the AWS config but `own`."""
    import re

    found: dict[str, list[str]] = {}
    for name, keys in sorted(profiles.items()):
        account = keys.get("sso_account_id", "").strip()
        if not account:
            match = re.fullmatch(
                r"arn:aws[a-z-]*:iam::([0-9]{12}):role/.+", keys.get("role_arn", "").strip()
            )
            account = match.group(1) if match else ""
        if account and account != own:
            found.setdefault(account, []).append(name)
    return found
