"""The one caller-identity call (STS GetCallerIdentity): who a profile's credentials are.
Used by `ecr-sso status --whoami` and by the repository commands, for a profile whose
account the AWS config does not name."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from credhelper.aws import client as aws

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    """What STS says a profile's credentials are."""

    account: str
    arn: str
    user_id: str

    def as_dict(self) -> dict[str, str]:
        return {"account": self.account, "arn": self.arn, "user_id": self.user_id}


def caller_identity(profile: str, region: str | None = None) -> Identity:
    """`sts get-caller-identity` with `profile`'s credentials, against STS in `region`
    (None: the profile's own). Failures are our errors, naming the profile and endpoint."""
    from botocore.exceptions import BotoCoreError, ClientError

    session = aws.make_session(profile)
    try:
        client = aws.make_client(session, service="sts", region=region)
        reply = client.get_caller_identity()
    except (BotoCoreError, ClientError) as err:
        raise aws.translate(
            err, None, profile, session, service="AWS STS", purpose=f"for profile '{profile}'"
        ) from None
    found = Identity(str(reply["Account"]), str(reply["Arn"]), str(reply["UserId"]))
    log.info("profile %s is account %s (STS)", profile, found.account)
    return found
