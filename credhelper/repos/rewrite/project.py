"""What the project as a whole says, learnt in a first pass before any file is scanned:

- the Helm charts (folders with a `Chart.yaml`), so their templates are read as text and
  their `ci/` files as values;
- the GitLab pipelines (`.gitlab-ci.yml` and the files it includes), and their variables;
- the build contexts bake and compose files name, and the Dockerfiles they apply to;
- the images the project builds itself (compose services with `build:` and `image:`,
  skaffold artifacts, bake tags, a Tiltfile's `docker_build`): `built here`, never
  rewritten; and the build arguments through which a skaffold artifact receives another;
- which inputs of a reusable GitHub workflow feed an image.

Files excluded (`excludes`) teach nothing: a vendored compose file must not make the
project's own references "built here".
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Collection
from dataclasses import dataclass, field

from credhelper.errors import UsageError
from credhelper.repos import imageref
from credhelper.repos.rewrite import bake, compose, github, gitlab, skaffold, yamlload
from credhelper.repos.rewrite.plan import repository_key
from credhelper.repos.rewrite.sources import Sources
from credhelper.repos.rewrite.yamlload import Node

_TILT_BUILD = re.compile(
    r"\b(?:docker_build|docker_build_with_restart|custom_build)\(\s*(?:ref\s*=\s*)?"
    r"([\"'])([^\"'\n]+)\1"
)
_COMPOSE = re.compile(r"(?:docker-)?compose(?:[.-][\w.-]+)?\.ya?ml")
#: YAML files that are never a skaffold config, not even looked at for one.
_NOT_SKAFFOLD = re.compile(r"values(?:[.-][\w.-]+)?\.ya?ml|Chart\.yaml")
_WORKFLOWS = ".github/workflows/"
#: Files included by included files: a bound, for pipelines that include themselves.
_INCLUDE_DEPTH = 32


@dataclass
class BuildScope:
    """What a bake or compose file tells the builds of some Dockerfiles: those in `folder`
    and below (a bake file's own folder; none for compose, which names its Dockerfiles),
    and those in `dockerfiles`."""

    folder: str | None
    dockerfiles: set[str]
    contexts: set[str]
    args: dict[str, list[str]]

    def covers(self, dockerfile: str) -> bool:
        """Whether the Dockerfile at `dockerfile` is one of these builds'."""
        return dockerfile in self.dockerfiles or (
            self.folder is not None and _under(dockerfile, self.folder)
        )


@dataclass
class Facts:
    """The project's facts (see the module docstring); paths are the run's file keys."""

    charts: set[str] = field(default_factory=set)
    pipelines: dict[str, gitlab.Pipeline] = field(default_factory=dict)  # file -> pipeline
    builds: list[BuildScope] = field(default_factory=list)
    built: set[str] = field(default_factory=set)
    reusable: dict[str, dict[str, str]] = field(default_factory=dict)  # workflow -> feeds
    _not_charts: set[str] = field(default_factory=set)

    def contexts_for(self, dockerfile: str) -> set[str]:
        """The named build contexts a build of the Dockerfile at `dockerfile` can have."""
        names: set[str] = set()
        for build in self.builds:
            if build.covers(dockerfile):
                names |= build.contexts
        return names

    def args_for(self, dockerfile: str) -> dict[str, list[str]]:
        """The build arguments a bake or compose file passes the Dockerfile at `dockerfile`."""
        args: dict[str, list[str]] = {}
        for build in self.builds:
            if build.covers(dockerfile):
                for name, values in build.args.items():
                    args.setdefault(name, []).extend(values)
        return args

    def is_chart(self, folder: str) -> bool:
        """Whether `folder` holds a `Chart.yaml`: among the files of the run, or on disk
        (the run may be of a chart's sub-folder only)."""
        if folder not in self.charts and folder not in self._not_charts:
            chart = os.path.join(folder or os.curdir, "Chart.yaml")
            (self.charts if os.path.isfile(chart) else self._not_charts).add(folder)
        return folder in self.charts

    def is_chart_template(self, path: str) -> bool:
        """Whether `path` is under a chart's `templates/`."""
        parts = path.split("/")
        return any(
            parts[i] == "templates" and self.is_chart("/".join(parts[:i]))
            for i in range(len(parts) - 1)
        )

    def is_chart_ci_values(self, path: str) -> bool:
        """Whether `path` is a file of a chart's `ci/` folder (chart-testing's values)."""
        folder = posixpath.dirname(path)
        return posixpath.basename(folder) == "ci" and self.is_chart(posixpath.dirname(folder))


def _under(path: str, folder: str) -> bool:
    return folder in ("", ".") or path.startswith(folder.rstrip("/") + "/")


def built_key(name: str) -> str | None:
    """How an image the project builds is matched: its repository, with its tag when the
    build names one (`app:local` is built; `app:1.4` from Docker Hub is not)."""
    try:
        ref = imageref.parse(name)
    except UsageError:
        return None
    return repository_key(ref) + (f":{ref.tag}" if ref.tag else "")


def learn(sources: Sources, included: Collection[str]) -> Facts:
    """The facts of the files `included` (the run's files that are not excluded)."""
    facts = Facts()
    paths = sorted(included)
    facts.charts = {posixpath.dirname(p) for p in paths if posixpath.basename(p) == "Chart.yaml"}
    _pipelines(sources, paths, facts)
    for path in paths:
        name = posixpath.basename(path)
        folder = posixpath.dirname(path)
        if bake.FILE_NAME.fullmatch(name):
            _bake(sources, path, facts)
        elif _COMPOSE.fullmatch(name):
            built = compose.Built()
            compose.learn(_documents(sources, path), folder, built)
            facts.built.update(k for k in map(built_key, built.images) if k)
            facts.builds += [
                BuildScope(None, {path}, built.contexts.get(path, set()), built.args.get(path, {}))
                for path in set(built.contexts) | set(built.args)
            ]
        elif name == "Tiltfile" or name.endswith(".tiltfile"):
            tilt = [m[2] for m in _TILT_BUILD.finditer(sources.text(path).text)]
            facts.built.update(k for k in map(built_key, tilt) if k)
        elif skaffold.is_named(name):
            _skaffold(sources, path, facts)
        elif _WORKFLOWS in "/" + path and name.endswith((".yml", ".yaml")):
            fed = github.feeds(_documents(sources, path))
            if fed:
                facts.reusable[path] = fed
        elif _may_be_skaffold(path, facts) and skaffold.says_so(sources.text(path).text):
            # The text stays read: the scan reads every YAML file next.
            _skaffold(sources, path, facts)
    return facts


def _may_be_skaffold(path: str, facts: Facts) -> bool:
    """Whether a YAML file of no other known kind could be a skaffold config."""
    name = posixpath.basename(path)
    return (
        name.endswith((".yaml", ".yml"))
        and _NOT_SKAFFOLD.fullmatch(name) is None
        and path not in facts.pipelines
        and not facts.is_chart_template(path)
    )


def _documents(sources: Sources, path: str) -> list[Node]:
    try:
        return sources.documents(path)
    except yamlload.NotParsed:
        return []  # said when the file itself is scanned


def _bake(sources: Sources, path: str, facts: Facts) -> None:
    read = bake.read(sources.text(path).text)
    folder = posixpath.dirname(path)
    dockerfiles = {posixpath.normpath(posixpath.join(folder, d)) for d in read.dockerfiles}
    if read.contexts or read.args:
        facts.builds.append(BuildScope(folder, dockerfiles, read.contexts, read.args))
    facts.built.update(k for k in map(built_key, read.tags) if k)


def _skaffold(sources: Sources, path: str, facts: Facts) -> None:
    """What the skaffold config at `path` builds, and the build arguments its artifacts'
    `requires` aliases pass their Dockerfiles (see `skaffold`)."""
    folder = posixpath.dirname(path)
    for artifact in skaffold.artifacts(_documents(sources, path)):
        key = built_key(artifact.image)
        if key:
            facts.built.add(key)
        if artifact.dockerfile and artifact.args:
            dockerfile = posixpath.normpath(posixpath.join(folder, artifact.dockerfile))
            args = {alias: [image] for alias, image in artifact.args.items()}
            facts.builds.append(BuildScope(None, {dockerfile}, set(), args))


def _pipelines(sources: Sources, paths: list[str], facts: Facts) -> None:
    """Each GitLab pipeline: a `.gitlab-ci.yml` and every file it includes, at any depth;
    any other `*.gitlab-ci.yml` no pipeline reaches is a pipeline of its own."""
    files = set(paths)
    for root in [p for p in paths if posixpath.basename(p) == gitlab.ROOT_FILE]:
        project = posixpath.dirname(root)
        pipeline = gitlab.Pipeline()
        queue, depth = [root], 0
        while queue and depth < _INCLUDE_DEPTH:
            depth += 1
            next_queue = []
            for path in queue:
                if path in facts.pipelines:
                    continue
                facts.pipelines[path] = pipeline
                nodes = _documents(sources, path)
                gitlab.learn(nodes, pipeline)
                next_queue += gitlab.includes(nodes, project, files)
            queue = next_queue
    for path in paths:
        if path not in facts.pipelines and gitlab.is_gitlab(posixpath.basename(path)):
            pipeline = gitlab.Pipeline()
            gitlab.learn(_documents(sources, path), pipeline)
            facts.pipelines[path] = pipeline
