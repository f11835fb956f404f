"""IAM Identity Center sign-in: `logins` (the token file in the AWS CLI's format, client
registrations, and the one rule for a login's state), `flows` (PKCE and device code, and
signing out), `oidc` (SSO-OIDC and the portal's calls), `start_url` (vanity start URLs),
`loopback` (the redirect listener) and `browser`.

May import the ground floor and `aws`; never `helper`, `setup`, `repos` or `cli`.
"""
