"""GitHub Actions: only the places GitHub itself pulls an image from.

- workflows (`.github/workflows/*.yml`): `jobs.<id>.container` (a string or its `image`),
  `jobs.<id>.services.<name>` (a string or its `image`) and a step's `uses: docker://IMAGE`;
- actions (`action.yml`): `runs.image: docker://IMAGE` and a composite step's
  `uses: docker://IMAGE`.

A step's `with:` inputs, `env:` values and the matrix are images only where they feed one of
those places: `${{ matrix.x }}` (or `matrix.x.y`) is followed to the job's
`strategy.matrix` lists and `include:` entries; `${{ inputs.x }}` to the input's `default`
in this workflow and, for a reusable workflow, to the `with: x:` of every job in the
project that calls it (`feeds` says which inputs feed an image; `callers` finds the
calls). Anything else built from expressions is unresolved.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from credhelper.repos.rewrite import yamlload, yamlscan
from credhelper.repos.rewrite.found import NAME, Found, Variable, leading_variable
from credhelper.repos.rewrite.resolve import Definition, Lookup, references
from credhelper.repos.rewrite.yamlload import MappingNode, Node, ScalarNode, SequenceNode

KIND = "github-actions"
_DOCKER = "docker://"
_WORKFLOWS = ".github/workflows/"


def is_action(name: str) -> bool:
    """Whether a file named `name` is an action's metadata."""
    return name in ("action.yml", "action.yaml")


def _jobs(nodes: list[Node]) -> list[dict[str, Node]]:
    found = []
    for root in nodes:
        for job in yamlload.pairs(yamlload.pairs(root).get("jobs")).values():
            if isinstance(job, MappingNode):
                found.append(yamlload.pairs(job))
    return found


def _image_places(job: dict[str, Node]) -> list[Node]:
    """The nodes of a job that hold an image: the container's and the services'."""
    places: list[Node] = []
    for owner in [job.get("container"), *yamlload.pairs(job.get("services")).values()]:
        if isinstance(owner, ScalarNode):
            places.append(owner)
        elif isinstance(owner, MappingNode):
            image = yamlload.pairs(owner).get("image")
            if image is not None:
                places.append(image)
    return places


def feeds(nodes: list[Node]) -> dict[str, str]:
    """The inputs of a reusable workflow that hold an image's name, each with the text
    that follows it at the place it is used (`""`, or a tag such as `:16`)."""
    found: dict[str, str] = {}
    for job in _jobs(nodes):
        for node in _image_places(job):
            if isinstance(node, ScalarNode):
                leading = leading_variable(str(node.value))
                if leading and leading[0].name.startswith("inputs."):
                    found[leading[0].name.removeprefix("inputs.")] = leading[1]
    return found


def scan(
    text: str,
    nodes: list[Node],
    path: str = "",
    called: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Found]:
    """Every image reference in a workflow or action at `path`; `called` maps the path of
    each reusable workflow in the project to its `feeds`."""
    found: list[Found] = []
    inputs = _input_defaults(nodes)
    for root in nodes:
        runs = yamlload.pairs(yamlload.pairs(root).get("runs"))
        found += yamlscan.refs(text, runs.get("image"), KIND, prefix=_DOCKER)
        found += _steps(text, runs.get("steps"))
    for job in _jobs(nodes):
        lookup = _lookup(text, job, inputs)
        for node in _image_places(job):
            found += yamlscan.refs(text, node, KIND, lookup)
        found += _steps(text, job.get("steps"))
        found += _call(text, job, path, called or {}, lookup)
    return yamlscan.unique(found)


def _steps(text: str, steps: Node | None) -> list[Found]:
    found: list[Found] = []
    if isinstance(steps, SequenceNode):
        for step in steps.value:
            found += yamlscan.refs(text, yamlload.pairs(step).get("uses"), KIND, prefix=_DOCKER)
    return found


def _call(
    text: str,
    job: dict[str, Node],
    path: str,
    called: Mapping[str, Mapping[str, str]],
    lookup: Lookup,
) -> list[Found]:
    """The `with:` values a job passes to a reusable workflow's inputs that feed images."""
    uses = job.get("uses")
    if not isinstance(uses, ScalarNode) or not str(uses.value).startswith("./"):
        return []
    root = path[: path.find(_WORKFLOWS)] if _WORKFLOWS in path else ""
    target = posixpath.normpath(posixpath.join(root, str(uses.value)))
    fed = called.get(target, {})
    found: list[Found] = []
    for name, value in yamlload.pairs(job.get("with")).items():
        if name not in fed:
            continue
        where = yamlscan.place(text, value)
        if where is None:
            continue
        rest = fed[name]
        if not rest:
            found += references(where[0], where[1], KIND, lookup)
        elif "$" not in where[0]:
            found.append(Found(where[0] + rest, (where[1],), KIND, NAME, where[0]))
    return found


def _input_defaults(nodes: list[Node]) -> dict[str, Node]:
    defaults: dict[str, Node] = {}
    for root in nodes:
        on = yamlload.pairs(yamlload.pairs(root).get("on"))
        for trigger in ("workflow_call", "workflow_dispatch"):
            declared = yamlload.pairs(yamlload.pairs(on.get(trigger)).get("inputs"))
            for name, spec in declared.items():
                default = yamlload.pairs(spec).get("default")
                if default is not None:
                    defaults.setdefault(name, default)
    return defaults


def _lookup(text: str, job: dict[str, Node], inputs: dict[str, Node]) -> Lookup:
    matrix = yamlload.pairs(yamlload.pairs(job.get("strategy")).get("matrix"))

    def lookup(variable: Variable) -> list[Definition]:
        if variable.syntax != "github":
            return []
        scope, _, rest = variable.name.partition(".")
        if scope == "inputs":
            found = yamlscan.definition(text, inputs.get(rest))
            return [found] if found is not None else []
        if scope != "matrix" or not rest:
            return []
        first, *deeper = rest.split(".")
        values: list[Node] = []
        listed = matrix.get(first)
        if isinstance(listed, SequenceNode):
            values += listed.value
        include = matrix.get("include")
        if isinstance(include, SequenceNode):
            values += [
                entry[first] for entry in map(yamlload.pairs, include.value) if first in entry
            ]
        for key in deeper:
            values = [v for v in (yamlload.pairs(node).get(key) for node in values) if v]
        definitions = [yamlscan.definition(text, node) for node in values]
        return [d for d in definitions if d is not None]

    return lookup
