"""`ecr-sso rewrite`: find the images a repository's builds, clusters and CI runs pull, and
point the Docker Hub ones at ECR, editing only the image's name.

The use case (`files`) lists the files (`walk`, with `gitignore` where git is not there to
ask, and `excludes`), reads each at most once (`sources`, through `treefile`, which never
leaves the tree), learns what the project as a whole says (`project`: charts, pipelines,
build contexts, images built here), then hands each file to its scanner (`kinds`) and the
references found to `plan`, which decides where each goes and makes the edited text.

- values: `found` (a reference's place and how it is edited, and how variables are
  written), `resolve` (a reference's text made into `Found` values, variables followed);
- YAML: `yamlload` (parsing, and a walk that survives hostile files), `yamlscan` (what the
  YAML scanners share);
- scanners, one per kind of file: `dockerfile`, `bake`, `compose`, `kubernetes`,
  `kustomize`, `helm`, `github`, `gitlab`.
"""
