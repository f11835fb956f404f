"""GitLab CI: `.gitlab-ci.yml` and the files it reaches through `include: local:`.

Where images are: `image:` (a string or its `name:`) and `services:` (strings or `name:`)
of every job and template, of `default:`, and at the top level. A variable there
(`image: $CI_IMAGE`, `- docker:$DIND`) is followed to where the pipeline defines it: the
top-level `variables:` of any file of the pipeline, the job's own `variables:` and
`parallel: matrix:`, those of the templates it `extends` or that extend it, and a
component's `spec: inputs: X: default:` for `$[[ inputs.X ]]`. Each such definition is
the reference, and is edited where it is written, in whichever file; the place that uses it
is not reported again. GitLab's own registry (`$CI_REGISTRY`, `$CI_REGISTRY_IMAGE`) is not
Docker Hub; any other variable defined nowhere in the pipeline (a project setting) is
unresolved.

`includes` reads `include:` in its forms (a string, a list of strings, `local:` entries,
with `*` and `**` globs) so the pipeline's files are read whatever their names.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

from credhelper.repos.rewrite import gitignore, yamlload, yamlscan
from credhelper.repos.rewrite.found import Found, Variable, leading_variable
from credhelper.repos.rewrite.resolve import Definition, defined, references
from credhelper.repos.rewrite.yamlload import MappingNode, Node, ScalarNode, SequenceNode

KIND = "gitlab-ci"
ROOT_FILE = ".gitlab-ci.yml"
_RESERVED = frozenset(
    {
        "stages",
        "variables",
        "include",
        "workflow",
        "default",
        "image",
        "services",
        "cache",
        "before_script",
        "after_script",
        "spec",
        "pages",
    }
)
_DEFAULT = "\0default"  # the scope of `default:` and the top-level image and services
# GitLab's predefined variables naming its own registry: some host that is not Docker Hub.
_GITLAB_REGISTRY = {
    "CI_REGISTRY": "gitlab-registry.invalid",
    "CI_REGISTRY_IMAGE": "gitlab-registry.invalid/project",
    "CI_TEMPLATE_REGISTRY_HOST": "gitlab-registry.invalid",
}


def is_gitlab(name: str) -> bool:
    """Whether a file named `name` is GitLab CI by its name."""
    lower = name.lower()
    return lower in (".gitlab-ci.yml", ".gitlab-ci.yaml") or lower.endswith(
        (".gitlab-ci.yml", ".gitlab-ci.yaml")
    )


def includes(nodes: list[Node], project: str, files: Collection[str]) -> list[str]:
    """The paths (among `files`) that `include: local:` entries name, globs expanded;
    `project` is the folder local paths start from."""
    patterns = []
    for root in nodes:
        value = yamlload.pairs(root).get("include")
        items = value.value if isinstance(value, SequenceNode) else [value]
        for item in items:
            if isinstance(item, ScalarNode) and "://" not in str(item.value):
                patterns.append(str(item.value))
            elif isinstance(item, MappingNode):
                local = yamlload.pairs(item).get("local")
                if isinstance(local, ScalarNode) and local.value:
                    patterns.append(str(local.value))
    found = []
    for pattern in patterns:
        if "$" in pattern:
            continue  # `$CI_...` in a path: only the pipeline knows it
        relative = pattern.lstrip("/")
        if "*" not in relative and "?" not in relative and "[" not in relative:
            path = posixpath.normpath(posixpath.join(project, relative))
            found += [path] if path in files else []
            continue
        rules = gitignore.parse("/" + _glob(relative), "")
        prefix = project.rstrip("/") + "/" if project not in ("", ".") else ""
        for path in files:
            if path.startswith(prefix) and gitignore.ignored(
                rules, path[len(prefix) :], folder=False
            ):
                found.append(path)
    return sorted(set(found))


def _glob(pattern: str) -> str:
    """GitLab's include glob as a `.gitignore` pattern: `*` stays within a folder, `**`
    crosses folders even inside a name (`configs/**.yml` is `configs/**/*.yml`)."""
    segments = []
    for segment in pattern.split("/"):
        if "**" in segment and segment != "**":
            segments += ["**", segment.replace("**", "*")]
        else:
            segments.append(segment)
    return "/".join(segments)


def _key(variable: Variable) -> str:
    """How a variable is named in `Pipeline`: `X` for `$X`, `inputs.X` for `$[[ inputs.X ]]`."""
    return variable.name if variable.syntax == "shell" else f"{variable.syntax}.{variable.name}"


@dataclass
class Pipeline:
    """What all the files of a pipeline say about its variables."""

    #: Per job or template name (`_DEFAULT` for `default:` and the top level): the
    #: variables used as an image's name there, each with what follows it (`""`, `:1`).
    uses: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    extends: dict[str, list[str]] = field(default_factory=dict)
    #: Every variable some file of the pipeline defines.
    defined: set[str] = field(default_factory=set)
    #: Each variable's definitions, by value, for telling a registry variable's registry.
    values: dict[str, list[str]] = field(default_factory=dict)

    def used_in(self, job: str | None) -> dict[str, set[str]]:
        """The variables used as image names by `job`, the templates it extends, the jobs
        that extend it, and `default:`; by every job when `job` is None."""
        names = set(self.uses) if job is None else self._family(job) | {_DEFAULT}
        merged: dict[str, set[str]] = {}
        for name in names:
            for variable, rests in self.uses.get(name, {}).items():
                merged.setdefault(variable, set()).update(rests)
        return merged

    def _family(self, job: str) -> set[str]:
        family = {job}
        changed = True
        while changed:  # bounded: each round adds a name or stops
            changed = False
            for name, parents in self.extends.items():
                if name in family and not family.issuperset(parents):
                    family.update(parents)
                    changed = True
                elif family.intersection(parents) and name not in family:
                    family.add(name)
                    changed = True
        return family


def _jobs(root: Node) -> Iterator[tuple[str, dict[str, Node]]]:
    """(name, keys) of every job and template of a document, `default:` and the top
    level as `_DEFAULT`."""
    top = yamlload.pairs(root)
    yield _DEFAULT, {k: v for k, v in top.items() if k in ("image", "services")}
    yield _DEFAULT, yamlload.pairs(top.get("default"))
    for name, value in top.items():
        if name not in _RESERVED and isinstance(value, MappingNode):
            yield name, yamlload.pairs(value)


def _image_places(keys: dict[str, Node]) -> list[ScalarNode]:
    places: list[Node | None] = []
    image = keys.get("image")
    places.append(yamlload.pairs(image).get("name") if isinstance(image, MappingNode) else image)
    services = keys.get("services")
    if isinstance(services, SequenceNode):
        for item in services.value:
            places.append(
                yamlload.pairs(item).get("name") if isinstance(item, MappingNode) else item
            )
    return [place for place in places if isinstance(place, ScalarNode)]


def learn(nodes: list[Node], pipeline: Pipeline) -> None:
    """Add what one file of the pipeline uses and defines to `pipeline`."""
    for root in nodes:
        for name, keys in _jobs(root):
            for place in _image_places(keys):
                leading = leading_variable(str(place.value))
                if leading is not None:
                    variable, rest = leading
                    uses = pipeline.uses.setdefault(name, {})
                    uses.setdefault(_key(variable), set()).add(rest)
            parents = keys.get("extends")
            listed = parents.value if isinstance(parents, SequenceNode) else [parents]
            pipeline.extends.setdefault(name, []).extend(
                str(p.value) for p in listed if isinstance(p, ScalarNode)
            )
        for _, definitions, syntax in _scoped_definitions(root):
            for name, value in definitions:
                key = name if syntax == "shell" else f"{syntax}.{name}"
                pipeline.defined.add(key)
                if isinstance(value, ScalarNode):
                    pipeline.values.setdefault(key, []).append(str(value.value))


def _scoped_definitions(root: Node) -> Iterator[tuple[str, list[tuple[str, Node]], str]]:
    """(job name, "" for the top level; its definitions; their syntax)."""
    top = yamlload.pairs(root)
    yield "", _variables(top.get("variables")), "shell"
    spec = yamlload.pairs(yamlload.pairs(top.get("spec")).get("inputs"))
    defaults = [(name, yamlload.pairs(v).get("default")) for name, v in spec.items()]
    yield "", [(name, value) for name, value in defaults if value is not None], "inputs"
    for name, keys in _jobs(root):
        if name == _DEFAULT:
            continue
        found = _variables(keys.get("variables"))
        matrix = yamlload.pairs(keys.get("parallel")).get("matrix")
        if isinstance(matrix, SequenceNode):
            for entry in matrix.value:
                for variable, value in yamlload.pairs(entry).items():
                    items = value.value if isinstance(value, SequenceNode) else [value]
                    found += [(variable, item) for item in items]
        yield name, found, "shell"


def _variables(node: Node | None) -> list[tuple[str, Node]]:
    found = []
    for name, written in yamlload.pairs(node).items():
        value = (
            yamlload.pairs(written).get("value") if isinstance(written, MappingNode) else written
        )
        if value is not None:
            found.append((name, value))
    return found


def scan(text: str, nodes: list[Node], pipeline: Pipeline) -> list[Found]:
    """Every image reference in one file of the pipeline."""
    found: list[Found] = []

    def lookup(variable: Variable) -> list[Definition]:
        values = pipeline.values.get(_key(variable), [])
        if not values and variable.name in _GITLAB_REGISTRY:
            values = [_GITLAB_REGISTRY[variable.name]]
        return [Definition(value, None) for value in values]

    for root in nodes:
        for _, keys in _jobs(root):
            for place in _image_places(keys):
                where = yamlscan.place(text, place)
                if where is None:
                    continue
                leading = leading_variable(where[0])
                if leading is not None and _key(leading[0]) in pipeline.defined:
                    continue  # the definitions are the references
                found += references(where[0], where[1], KIND, lookup)
        inputs_used = pipeline.used_in(None)
        for job, definitions, syntax in _scoped_definitions(root):
            used = pipeline.used_in(job or None) if syntax == "shell" else inputs_used
            for variable, value in definitions:
                rests = used.get(variable if syntax == "shell" else f"inputs.{variable}")
                definition = yamlscan.definition(text, value)
                if not rests or definition is None:
                    continue
                found += defined(definition, "" if "" in rests else min(rests), KIND, lookup)
    return yamlscan.unique(found)
