"""ecr-sso: a Docker credential helper for Amazon ECR that signs in through AWS SSO.

Nothing is imported here on purpose: the credential helper's cache-hit path imports
only the modules it needs, and every import costs start-up time on every `docker pull`.
"""
