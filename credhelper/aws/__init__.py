"""AWS as the rest of the package sees it: `config` (the one reader of the AWS config
file, botocore's rules, and the SSO sessions it names), `config_editor` (its careful
editor), `client` (the one client factory and botocore-error translator, and the helper's
token fetch), `profiles` (which profile serves a registry) and `sts` (the one
caller-identity call).

The only place botocore is imported (`client`, `sts`; `config` reads the file with the
standard library). May import the ground floor only.
"""
