"""IAM Identity Center sign-in: the SSO token cache in the AWS CLI's format, client
registrations, the PKCE and device-code flows, the loopback listener and the browser.

May import the ground floor and `aws`; never `helper`, `setup`, `repos` or `cli`.
"""
