"""What we say on Windows, where neither executable runs yet.

Both executables check `sys.platform` / `os.name` first thing and print this one line;
`install/install.sh` says the same under MSYS and Cygwin.
"""

from __future__ import annotations

REFUSAL = (
    "ecr-sso does not run on Windows yet: that needs an .exe launcher for docker to start, and a"
    " token store other than the Windows Credential Manager, whose 2,560-byte limit ECR"
    " tokens exceed"
)
