"""Repository and tag commands: the ECR repository API, image references, tag ordering,
which registry a command targets, and migration with skopeo.

May import the ground floor and `aws`; never `helper`, `setup` or `cli`.
"""
