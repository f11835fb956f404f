"""AWS as the rest of the package sees it: botocore sessions and clients, error translation,
and the AWS config file (reading profiles the way botocore does, and editing it).

The only place boto3/botocore are imported. May import the ground floor only.
"""
