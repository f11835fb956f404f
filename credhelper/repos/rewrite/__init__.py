"""`ecr-sso rewrite`: find image references in a repository's files and point the Docker
Hub ones at ECR, editing only the reference text.

- `found`: what a scanner reports (a reference's place in the file);
- `kinds`: which scanner reads a file, by its name;
- `dockerfile`, `yamlrefs`: the scanners;
- `plan`: where each reference goes, and the edited text and its diff;
- `walk`: the files under a folder, as git would list them.
"""
