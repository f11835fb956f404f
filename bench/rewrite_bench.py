"""Benchmark of `ecr-sso rewrite --check` on a large Helm chart repository.

These machines are noisy, so besides absolute times every figure is also given as a ratio
to baselines taken in the same run, interleaved with it:

- `git grep -n -E 'image:|FROM |repository:'` on the same tree: what a team would otherwise
  run as its "no Docker Hub" gate, and the floor for reading every file once;
- `python -I -c pass` with the measured checkout's interpreter: the start-up any Python
  command pays;
- `ecr-sso rewrite --check` of each checkout measured (this one by default), with `--registry`
  so no AWS call is made. Target: within 10x of git grep plus interpreter start-up.

The tree is generated (seeded, so every run measures the same bytes) in a temporary git work
tree shaped after the large public chart repositories: hundreds of charts in two styles (a
registry/repository/tag image block per component in heavily commented values files,
copyright-headed templates, big READMEs; or repository + tag images, `ci/` values files and
`{{- if` templates with test hooks), Chart.yaml image annotations, and operator charts with
CRD files of up to about a megabyte, some with `image` schema properties but no image in
them. `--tree PATH` measures a real checkout (a git work tree) instead.

Run: `.venv/bin/python bench/rewrite_bench.py [--runs N] [--charts N] [--seed S]
[--scale X] [--tree PATH] [--checkout DIR ...] [--write-tree DIR]`. No AWS account is used.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import round_robin

REPO = Path(__file__).resolve().parents[1]
REGISTRY = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"
GREP = ["git", "grep", "-n", "-E", "image:|FROM |repository:"]
CONFIG = 'dockerhub_org = "examplecorp"\n\n[pull_through]\nprefix = "docker-hub"\n'

# ---------------------------------------------------------------------------------------
# The synthetic chart repository
# ---------------------------------------------------------------------------------------

_WORDS = (  # noqa: SIM905 - a paragraph of words reads better than a column
    "the container image pod volume mount secret config map service account port probe "
    "liveness readiness startup resource limit request memory cpu replica selector label "
    "annotation node affinity toleration topology spread constraint security context user "
    "group run as non root capability drop add seccomp profile network policy ingress egress "
    "cluster namespace scope role binding rule verb api group persistent claim storage class "
    "access mode size retention interval timeout period threshold success failure path host "
    "scheme header value field reference key name optional default specifies defines whether "
    "enabled disabled when if set this is used for of to in a an and or must may should be "
    "more info see https kubernetes io docs concepts workloads pods"
).split()
_NAMES = (  # noqa: SIM905 - a paragraph of words reads better than a column
    "alpha aurora beacon cedar comet delta ember falcon garnet harbor iris jade kestrel "
    "lumen maple nova onyx pulsar quartz raven sierra talon umbra vega willow xenon yarrow "
    "zephyr atlas borealis cobalt dune echo flint glacier helix indigo juniper krypton lotus "
    "meteor nimbus orchid prism quill ripple spruce tundra"
).split()
_COMPONENTS = ("server", "exporter", "sidecar", "init", "proxy", "worker", "agent", "shell")
_PUBLIC = ("busybox", "alpine", "nginx", "redis", "postgres", "memcached", "curlimages/curl")
_ELSEWHERE = ("quay.io/prometheus", "registry.k8s.io", "ghcr.io/example", "public.ecr.aws/x")
_CRD_PROPERTIES = (  # noqa: SIM905 - a paragraph of words reads better than a column
    "affinity tolerations containers volumes securityContext resources nodeSelector "
    "serviceAccountName priorityClassName topologySpreadConstraints retention storage "
    "alerting remoteWrite ruleSelector podMetadata web tls endpoints"
).split()


@dataclass
class Shape:
    """What a generated tree holds, to print beside the figures."""

    charts: int = 0
    files: int = 0
    bytes: int = 0
    crd_files: int = 0
    crd_bytes: int = 0
    values_files: int = 0
    templates: int = 0
    image_blocks: int = 0
    #: The values-file image references planted on Docker Hub: (path, line).
    planted: list[tuple[str, int]] = field(default_factory=list)


class _Writer:
    def __init__(self, root: Path, shape: Shape) -> None:
        self.root = root
        self.shape = shape

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        self.shape.files += 1
        self.shape.bytes += len(text)


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words))


def _lognormal(rng: random.Random, median: float, sigma: float, low: int, high: int) -> int:
    return max(low, min(high, int(rng.lognormvariate(0, sigma) * median)))


def _docker_hub(rng: random.Random, org: str) -> tuple[str, str]:
    """(registry, repository) of an image on Docker Hub, spelt as charts spell it."""
    repository = rng.choice((f"{org}/{rng.choice(_NAMES)}", rng.choice(_PUBLIC)))
    return rng.choice(("docker.io", "docker.io", "")), repository


def _values_commented(
    rng: random.Random, chart: str, shape: Shape, scale: float
) -> tuple[str, list[str]]:
    """A heavily commented values.yaml with a registry/repository/tag block per component."""
    lines = ["# Copyright Example, Inc. All Rights Reserved.", "# SPDX-License-Identifier: X", ""]
    lines += ["## @section Global parameters", "global:", "  imageRegistry: ''"]
    lines += ["  imagePullSecrets: []", "  defaultStorageClass: ''", ""]
    images: list[str] = []
    components = rng.sample(_COMPONENTS, rng.randint(1, 5))
    for component in [chart, *components, "volumePermissions"]:
        key = "image" if component == chart else f"{component}"
        registry, repository = _docker_hub(rng, "examplecorp")
        version = f"{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
        tag = f"{version}-debian-12-r{rng.randint(0, 60)}"
        lines += [f"## @section {component} parameters", "##"]
        lines += [f"## @param {key}.{p} {_sentence(rng, 8)}" for p in ("registry", "repository")]
        lines += [f"## ref: https://hub.example/r/{repository}/tags/", "##"]
        indent = ""
        if component != chart:
            lines.append(f"{key}:")
            lines.append("  enabled: false")
            lines.append("  image:")
            indent = "    "
        else:
            lines.append("image:")
            indent = "  "
        if registry:
            lines.append(f"{indent}registry: {registry}")
        lines.append(f"{indent}repository: {repository}")
        shape.planted.append(("", len(lines) - (1 if registry else 0)))
        lines += [f"{indent}tag: {tag}", f'{indent}digest: ""', f"{indent}pullPolicy: IfNotPresent"]
        lines += [f"{indent}## {_sentence(rng, 10)}", f"{indent}pullSecrets: []"]
        images.append(f"{registry or 'docker.io'}/{repository}:{tag}")
        shape.image_blocks += 1
        lines += _config_block(
            rng, indent[:-2] if component != chart else "", int(rng.randint(150, 500) * scale)
        )
    return "\n".join(lines) + "\n", images


def _values_lean(
    rng: random.Random, chart: str, shape: Shape, scale: float
) -> tuple[str, list[str]]:
    """A lighter values.yaml: `image: {repository, tag}` blocks, some on other registries."""
    lines = ["# Default values.", "replicaCount: 1", ""]
    images: list[str] = []
    for component in [chart, *rng.sample(_COMPONENTS, rng.randint(0, 3))]:
        prefix = "" if component == chart else f"{component}:\n  enabled: true\n  "
        if rng.random() < 0.5:
            repository = f"{rng.choice(_ELSEWHERE)}/{rng.choice(_NAMES)}"
            hub = False
        else:
            _, repository = _docker_hub(rng, "examplecorp")
            hub = True
        tag = f"v{rng.randint(0, 3)}.{rng.randint(0, 40)}.{rng.randint(0, 9)}"
        block = f"{prefix}image:\n    repository: {repository}\n    tag: {tag}\n"
        if component == chart:
            block = f"image:\n  repository: {repository}\n  # {_sentence(rng, 6)}\n  tag: {tag}\n"
        head = len(lines)
        lines += block.rstrip("\n").split("\n")
        if hub:
            planted = next(i for i in range(head, len(lines)) if "repository:" in lines[i])
            shape.planted.append(("", planted + 1))
        images.append(f"{repository}:{tag}")
        shape.image_blocks += 1
        lines += _config_block(rng, "", int(rng.randint(10, 60) * scale))
    return "\n".join(lines) + "\n", images


def _config_block(rng: random.Random, indent: str, lines: int) -> list[str]:
    """Resources, probes and the like: what makes values files long without images."""
    out: list[str] = []
    keys = ("resources", "livenessProbe", "readinessProbe", "podSecurityContext", "service")
    while len(out) < lines:
        key = f"{rng.choice(keys)}{len(out)}"
        out += [f"{indent}## @param {key} {_sentence(rng, 9)}", f"{indent}{key}:"]
        out += [f"{indent}  enabled: {rng.choice(('true', 'false'))}"]
        out += [f"{indent}  {rng.choice(_WORDS)}Seconds: {rng.randint(1, 600)}" for _ in range(3)]
        out += [f"{indent}  ## {_sentence(rng, 12)}", f"{indent}  extra: {{}}", ""]
    return out


def _template(rng: random.Random, chart: str, kind: str, commented: bool, size: int) -> str:
    head = (
        "{{- /*\nCopyright Example, Inc. All Rights Reserved.\nSPDX-License-Identifier: X\n*/}}\n\n"
        if commented
        else f"{{{{- if .Values.{kind.lower()}.enabled }}}}\n"
    )
    body = [
        f'apiVersion: {{{{ include "common.capabilities.{kind.lower()}.apiVersion" . }}}}',
        f"kind: {kind}",
        "metadata:",
        f'  name: {{{{ include "{chart}.fullname" . }}}}',
        "  namespace: {{ .Release.Namespace | quote }}",
        '  labels: {{- include "common.labels.standard" . | nindent 4 }}',
        "spec:",
    ]
    while sum(len(line) + 1 for line in body) < size:
        field_ = rng.choice(_CRD_PROPERTIES)
        body += [
            f"  {{{{- if .Values.{field_} }}}}",
            f"  {field_}: {{{{- toYaml .Values.{field_} | nindent 4 }}}}",
            "  {{- end }}",
        ]
        if kind in ("Deployment", "StatefulSet", "DaemonSet") and rng.random() < 0.1:
            body += [
                "      containers:",
                f"        - name: {chart}",
                f'          image: {{{{ include "{chart}.image" . }}}}',
                "          imagePullPolicy: {{ .Values.image.pullPolicy }}",
            ]
    return head + "\n".join(body) + ("\n" if commented else "\n{{- end }}\n")


def _test_hook(rng: random.Random, chart: str) -> str:
    """A `helm test` hook with a literal image, as many community charts have."""
    image = rng.choice(("busybox", "busybox:1.36", "curlimages/curl:8.5.0"))
    return (
        "apiVersion: v1\nkind: Pod\nmetadata:\n"
        f'  name: "{{{{ include "{chart}.fullname" . }}}}-test-connection"\n'
        '  annotations:\n    "helm.sh/hook": test\nspec:\n  containers:\n    - name: wget\n'
        f"      image: {image}\n      command: ['wget']\n"
        f"      args: ['{{{{ include \"{chart}.fullname\" . }}}}:{{{{ .Values.service.port }}}}']\n"
        "  restartPolicy: Never\n"
    )


def _crd(rng: random.Random, group: str, kind: str, size: int, with_image: bool) -> str:
    """A CustomResourceDefinition of about `size` characters: a deep openAPIV3Schema with
    long descriptions and no image reference (only, sometimes, `image` properties)."""
    plural = kind.lower() + "s"
    lines = [
        "---",
        "apiVersion: apiextensions.k8s.io/v1",
        "kind: CustomResourceDefinition",
        "metadata:",
        "  annotations:",
        "    controller-gen.kubebuilder.io/version: v0.16.0",
        f"  name: {plural}.{group}",
        "spec:",
        f"  group: {group}",
        "  names:",
        f"    kind: {kind}",
        f"    plural: {plural}",
        "  scope: Namespaced",
        "  versions:",
        "  - name: v1",
        "    schema:",
        "      openAPIV3Schema:",
        "        type: object",
        "        properties:",
    ]
    budget = [size - sum(len(line) + 1 for line in lines)]
    while budget[0] > 0:
        lines += _schema_property(rng, 10, 0, budget, with_image)
    lines += ["    served: true", "    storage: true"]
    return "\n".join(lines) + "\n"


def _schema_property(
    rng: random.Random, indent: int, depth: int, budget: list[int], with_image: bool
) -> list[str]:
    """One property of a schema, with nested properties now and then, each with the long
    description controller-gen writes; `budget` (characters left) shrinks as it goes."""
    pad = " " * indent
    name = "image" if with_image and rng.random() < 0.03 else rng.choice(_CRD_PROPERTIES)
    name = name if name == "image" else f"{name}{rng.randint(0, 999)}"
    out = [f"{pad}{name}:", f"{pad}  description: |-"]
    out += [f"{pad}    {_sentence(rng, 12)}" for _ in range(rng.randint(1, 5))]
    nested = name != "image" and depth < 8 and rng.random() < 0.3
    if nested:
        out += [f"{pad}  type: object", f"{pad}  properties:"]
    else:
        out.append(f"{pad}  type: {rng.choice(('string', 'integer', 'boolean'))}")
    budget[0] -= sum(len(line) + 1 for line in out)
    if nested:
        for _ in range(rng.randint(1, 4)):
            out += _schema_property(rng, indent + 4, depth + 1, budget, with_image)
            if budget[0] <= 0:
                break
    return out


def _chart_yaml(rng: random.Random, chart: str, images: list[str], commented: bool) -> str:
    listed = "".join(
        f"    - name: {image.split('/')[-1].split(':')[0]}\n      image: {image}\n"
        for image in images
    )
    annotations = f"  images: |\n{listed}" if commented else f"  artifacthub.io/images: |\n{listed}"
    dependencies = (
        "dependencies:\n- name: common\n  repository: oci://registry-1.docker.io/examplecharts\n"
        "  tags:\n  - common\n  version: 2.x.x\n"
        if commented
        else ""
    )
    return (
        f"annotations:\n{annotations}  licenses: Apache-2.0\napiVersion: v2\n"
        f"appVersion: {rng.randint(1, 9)}.{rng.randint(0, 30)}.0\n{dependencies}"
        f"description: {_sentence(rng, 20)}\nhome: https://example.org/{chart}\n"
        f"keywords:\n- {chart}\nmaintainers:\n- name: Example\nname: {chart}\n"
        f"sources:\n- https://example.org/src/{chart}\n"
        f"version: {rng.randint(0, 30)}.{rng.randint(0, 9)}.0\n"
    )


_KINDS = (
    "Deployment",
    "Service",
    "ConfigMap",
    "Secret",
    "Ingress",
    "NetworkPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "ServiceMonitor",
    "HorizontalPodAutoscaler",
)


def _chart(rng: random.Random, out: _Writer, chart: str, commented: bool, scale: float) -> None:
    base = f"charts/{chart}"
    planted_before = len(out.shape.planted)
    values, images = (_values_commented if commented else _values_lean)(
        rng, chart, out.shape, scale
    )
    for index in range(planted_before, len(out.shape.planted)):
        out.shape.planted[index] = (f"{base}/values.yaml", out.shape.planted[index][1])
    out.write(f"{base}/values.yaml", values)
    out.write(f"{base}/Chart.yaml", _chart_yaml(rng, chart, images, commented))
    out.write(f"{base}/.helmignore", ".DS_Store\n.git/\n*.swp\n*.bak\n*.tmp\n.idea/\n")
    out.shape.values_files += 1
    readme_median = 90_000 if commented else 5_000
    readme = int(_lognormal(rng, readme_median, 0.6, 1_000, 500_000) * scale)
    text = f"# {chart}\n\n"
    while len(text) < readme:
        text += f'| `{rng.choice(_CRD_PROPERTIES)}` | {_sentence(rng, 14)} | `""` |\n'
    out.write(f"{base}/README.md", text)
    if commented:
        out.write(
            f"{base}/CHANGELOG.md",
            "".join(f"## {i}.0.0\n\n- {_sentence(rng, 10)}\n\n" for i in range(rng.randint(5, 80))),
        )
        out.write(
            f"{base}/Chart.lock",
            "dependencies:\n- name: common\n  version: 2.31.0\ndigest: sha256:0\n",
        )
    out.write(
        f"{base}/templates/NOTES.txt", f"CHART NAME: {{{{ .Chart.Name }}}}\n{_sentence(rng, 40)}\n"
    )
    out.write(
        f"{base}/templates/_helpers.tpl",
        "".join(
            f'{{{{- define "{chart}.{k}" -}}}}\n{{{{ .Values.{k} }}}}\n{{{{- end -}}}}\n\n'
            for k in _CRD_PROPERTIES
        ),
    )
    for index in range(_lognormal(rng, 18, 0.5, 6, 110)):
        kind = rng.choice(_KINDS)
        size = int(_lognormal(rng, 2_000, 0.8, 300, 40_000) * scale)
        out.write(
            f"{base}/templates/{kind.lower()}-{index}.yaml",
            _template(rng, chart, kind, commented, size),
        )
        out.shape.templates += 1
    if not commented:
        out.write(f"{base}/templates/tests/test-connection.yaml", _test_hook(rng, chart))
        for name in rng.sample(
            ("default", "ingress", "persistence", "metrics", "ha", "tls"), rng.randint(1, 5)
        ):
            repository = _docker_hub(rng, "examplecorp")[1]
            override = f"image:\n  repository: {repository}\n" if rng.random() < 0.3 else ""
            out.write(f"{base}/ci/{name}-values.yaml", f"{override}service:\n  type: ClusterIP\n")
    if rng.random() < 0.2:  # an operator chart: its CRDs
        where = rng.choice(("crds", "templates/crds", "charts/crds/crds"))
        if where.startswith("charts/"):
            out.write(
                f"{base}/charts/crds/Chart.yaml", "apiVersion: v2\nname: crds\nversion: 0.0.0\n"
            )
        group = f"{chart}.example.io"
        for index in range(_lognormal(rng, 4, 0.8, 1, 24)):
            kind = f"{rng.choice(_NAMES).title()}{index}"
            size = int(_lognormal(rng, 90_000, 1.0, 5_000, 1_300_000) * scale)
            text = _crd(rng, group, kind, size, with_image=rng.random() < 0.25)
            out.write(f"{base}/{where}/{group}_{kind.lower()}s.yaml", text)
            out.shape.crd_files += 1
            out.shape.crd_bytes += len(text)


def write_tree(root: Path, charts: int, seed: int, scale: float = 1.0) -> Shape:
    """Write a chart repository of `charts` charts under `root` (which must exist), the
    same bytes for the same arguments; `scale` multiplies the length of READMEs, values
    files, templates and CRDs. Pure file writes: no git."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    shape = Shape(charts=charts)
    out = _Writer(root, shape)
    names = [f"{a}-{b}" for a in _NAMES for b in _COMPONENTS]
    rng.shuffle(names)
    for index in range(charts):
        _chart(
            rng,
            out,
            names[index % len(names)] + ("" if index < len(names) else str(index)),
            commented=rng.random() < 0.6,
            scale=scale,
        )
    out.write(
        "README.md", "# Charts\n\nA generated chart repository for `bench/rewrite_bench.py`.\n"
    )
    out.write("ct.yaml", "chart-dirs:\n  - charts\nvalidate-maintainers: false\n")
    out.write(
        ".github/workflows/lint-test.yaml",
        "name: Lint and test\non: pull_request\njobs:\n  lint:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n"
        "      - uses: helm/chart-testing-action@v2\n",
    )
    return shape


def git_init(root: Path) -> None:
    """Make `root` a git work tree with everything committed, as a fresh clone is."""
    git = ["git", "-C", str(root), "-c", "init.defaultBranch=main"]
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, *identity, "commit", "-q", "-m", "charts"], check=True)


# ---------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkout:
    """An ecr-sso checkout to measure: how to start its `ecr-sso`, and what it is."""

    label: str
    python: Path
    argv: tuple[str, ...]


def checkout(folder: Path) -> Checkout:
    """The `ecr-sso` of the checkout at `folder`, from its .venv."""
    python = folder / ".venv" / "bin" / "python"
    if not python.exists():
        raise SystemExit(f"{folder}: no .venv/bin/python (run `bash tests/run --fast` there once)")
    script = folder / ".venv" / "bin" / "ecr-sso"
    argv = (
        (str(script),)
        if script.exists()
        else (str(python), "-c", "import sys; from credhelper.cli import main; sys.exit(main())")
    )
    return Checkout(_describe(folder), python, argv)


def _describe(folder: Path) -> str:
    def git(*argv: str) -> str:
        done = subprocess.run(["git", "-C", str(folder), *argv], capture_output=True, text=True)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "?"
    branch = git("rev-parse", "--abbrev-ref", "HEAD") or "?"
    dirty = " +uncommitted" if git("status", "--porcelain", "--untracked-files=no") else ""
    return f"{branch}@{commit}{dirty}"


def environ(home: Path) -> dict[str, str]:
    """This process's environment without AWS or our settings, with our config naming a
    team organisation and a pull-through cache so every Docker Hub reference has a
    replacement; bytecode cached outside every checkout (none is written into one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ECR_SSO_"))}
    (home / "config.toml").write_text(CONFIG)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        ECR_SSO_CONFIG=str(home / "config.toml"),
        PYTHONPYCACHEPREFIX=str(home / "pycache"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@dataclass
class Run:
    """The last run of a command: its exit code and how many lines it printed."""

    code: int = 0
    lines: int = 0


def timed(
    argv: Sequence[str],
    cwd: Path,
    env: dict[str, str],
    ok: Sequence[int],
    run: Run,
    *,
    lists: bool = False,
) -> float:
    """Seconds `argv` took. It must exit with one of `ok`; for a command that `lists`
    (`rewrite --check`), exit 1 counts only with a listing, so a crash that happens to exit
    1 is not measured as a result."""
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in ok or (lists and done.returncode == 1 and not done.stdout.strip()):
        detail = (done.stderr or done.stdout).decode(errors="replace").strip()[-2000:]
        raise SystemExit(f"{' '.join(argv[:3])}… exited {done.returncode}: {detail}")
    run.code, run.lines = done.returncode, done.stdout.count(b"\n")
    return elapsed


def _tree_facts(tree: Path) -> str:
    listed = subprocess.run(
        ["git", "-C", str(tree), "ls-files", "-z"], capture_output=True, check=True
    ).stdout.split(b"\0")
    names = [os.fsdecode(n) for n in listed if n]
    size = sum((tree / n).stat().st_size for n in names if (tree / n).is_file())
    charts = sum(1 for n in names if n.endswith("Chart.yaml"))
    crds = [n for n in names if "crd" in n.lower() and n.endswith((".yaml", ".yml"))]
    return f"{len(names):,} files, {size / 1e6:.1f} MB; {charts} Chart.yaml; {len(crds)} CRD files"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--charts", type=int, default=250, help="charts in the generated tree")
    parser.add_argument("--seed", type=int, default=17, help="seed of the generated tree")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="length of the generated files, times this"
    )
    parser.add_argument("--tree", type=Path, help="measure this git work tree instead")
    parser.add_argument(
        "--checkout",
        type=Path,
        action="append",
        help="an ecr-sso checkout with a .venv to measure (repeatable; default: this one)",
    )
    parser.add_argument(
        "--write-tree", type=Path, metavar="DIR", help="only generate the tree into DIR, and stop"
    )
    return parser.parse_args()


def _prepare(args: argparse.Namespace, scratch: Path) -> tuple[Path, list[str]]:
    """The tree to measure (the one named, or one generated under `scratch`), and the
    lines that describe it."""
    if args.tree is not None:
        tree = args.tree.resolve()
        inside = subprocess.run(
            ["git", "-C", str(tree), "rev-parse", "--is-inside-work-tree"],
            capture_output=True,
            text=True,
        )
        if inside.stdout.strip() != "true":
            raise SystemExit(f"{tree}: not a git work tree")
        return tree, [f"tree: {tree} ({_describe(tree)})", _tree_facts(tree)]
    tree = scratch / "charts"
    tree.mkdir()
    started = time.perf_counter()
    shape = write_tree(tree, args.charts, args.seed, args.scale)
    git_init(tree)
    made = time.perf_counter() - started
    return tree, [
        f"tree: generated, {shape.charts} charts (seed {args.seed}, scale {args.scale:g}), "
        f"made in {made:.1f}s",
        _tree_facts(tree),
        f"{shape.templates:,} templates; {shape.values_files} values.yaml with "
        f"{shape.image_blocks} image blocks ({len(shape.planted)} on Docker Hub); "
        f"{shape.crd_files} CRD files ({shape.crd_bytes / 1e6:.1f} MB)",
    ]


def main() -> None:
    args = _arguments()
    checkouts = [checkout(folder.resolve()) for folder in args.checkout or [REPO]]
    if args.write_tree is not None:
        args.write_tree.mkdir(parents=True)
        shape = write_tree(args.write_tree, args.charts, args.seed, args.scale)
        git_init(args.write_tree)
        print(f"{args.write_tree}: {shape.charts} charts, {shape.files:,} files")
        return

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = environ(home)
        tree, about = _prepare(args, Path(tmp))
        grep_run, start_run = Run(), Run()
        check_runs = [Run() for _ in checkouts]
        python = str(checkouts[0].python)
        measures: list[Callable[[], float]] = [
            lambda: timed([python, "-I", "-c", "pass"], tree, env, [0], start_run),
            lambda: timed(GREP, tree, env, [0, 1], grep_run),
        ]
        for each, run in zip(checkouts, check_runs, strict=True):
            argv = [*each.argv, "rewrite", "--check", "--registry", REGISTRY]
            measures.append(functools.partial(timed, argv, tree, env, [0, 1], run, lists=True))
        for measure in measures:  # warm: the page cache, and each checkout's bytecode
            measure()
        start, grep, *checks = round_robin(args.runs, measures)

    floor = grep + start
    print("\n  ".join(about))
    print(f"median of {args.runs} runs; python: {python}")
    print(f"{'measurement':<56} {'median':>10} {'ratio':>9}  target")
    print(f"{'python -I -c pass (start-up)':<56} {start * 1000:8.1f}ms")
    print(f"{'git grep -n -E ' + repr('image:|FROM |repository:'):<56} {grep * 1000:8.1f}ms")
    print(f"  ({grep_run.lines:,} lines matched)")
    print(f"{'git grep + python start-up (the baseline)':<56} {floor * 1000:8.1f}ms {1:8.2f}x")
    for each, seconds, run in zip(checkouts, checks, check_runs, strict=True):
        label = f"rewrite --check, {each.label}"
        print(f"{label:<56} {seconds:9.2f}s {seconds / floor:8.1f}x  <= 10x")
        listed = f"exit {run.code}, {run.lines:,} references listed"
        print(f"  ({listed}; {seconds / grep:.0f}x git grep alone)")


if __name__ == "__main__":
    main()
