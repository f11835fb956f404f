"""`ecr-sso setup` and `teardown`: the team file, SSO discovery, planning the three files
(AWS config, Docker's config.json, our config.toml) and writing them.

May import the ground floor, `aws` and `sso`; never `repos` or `cli`.
"""
