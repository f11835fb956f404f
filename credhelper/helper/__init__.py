"""The credential helper docker runs: wire protocol, fast path, token cache, use cases.

Owns everything between the helper's stdin and stdout. `main` is the executable; `fastpath`
answers a cache hit with `os`, `sys` and `time` only, so this file must stay import-free.
May import the ground floor (errors, paths, settings, registry, atomic, log), `aws` and `sso`;
never `setup`, `repos` or `cli`.
"""
