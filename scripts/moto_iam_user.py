#!/usr/bin/env python3
"""Creates the IAM user the tests sign with in a moto_server that verifies signatures, and prints
`export AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=…` for the shell to eval.

moto_server must have been started with INITIAL_NO_AUTH_ACTION_COUNT=3: its first three actions
(CreateUser, PutUserPolicy, CreateAccessKey here) need no valid signature; every later request
is signed with a key that must belong to an IAM user, its SigV4 signature recomputed with that
user's secret, and the action checked against the user's policies. Exits 1, saying why, when
the server accepts a wrong signature (it would prove nothing) or refuses the new keys.

Usage: moto_iam_user.py <moto endpoint URL>
"""
import json
import sys

import boto3
import botocore.exceptions

UNAUTHENTICATED_ACTIONS = 3
REGION = "us-east-1"
USER = "cis-tests"
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def client(endpoint, service, key, secret):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=key, aws_secret_access_key=secret)


def fail(message):
    print(f"moto_iam_user: {message}", file=sys.stderr)
    sys.exit(1)


def main(endpoint):
    # The unauthenticated budget: exactly UNAUTHENTICATED_ACTIONS calls, any keys.
    iam = client(endpoint, "iam", "bootstrap", "bootstrap")
    iam.create_user(UserName=USER)
    iam.put_user_policy(UserName=USER, PolicyName="allow-all", PolicyDocument=json.dumps(ALLOW_ALL))
    key = iam.create_access_key(UserName=USER)["AccessKey"]
    key_id, secret = key["AccessKeyId"], key["SecretAccessKey"]

    try:
        client(endpoint, "s3", key_id, secret + "x").list_buckets()
        fail("moto_server accepted a request signed with a wrong secret: start it with "
             f"INITIAL_NO_AUTH_ACTION_COUNT={UNAUTHENTICATED_ACTIONS} and nothing else before this script")
    except botocore.exceptions.ClientError as error:
        if error.response["Error"]["Code"] != "SignatureDoesNotMatch":
            fail(f"a wrong secret got {error.response['Error']['Code']}, not SignatureDoesNotMatch")
    try:
        client(endpoint, "s3", key_id, secret).list_buckets()
    except botocore.exceptions.ClientError as error:
        fail(f"moto_server refused the new IAM user's keys: {error}")

    for name, value in (("AWS_ACCESS_KEY_ID", key_id), ("AWS_SECRET_ACCESS_KEY", secret)):
        if "'" in value:
            fail(f"unexpected quote in {name}")
        print(f"export {name}='{value}'")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        fail("usage: moto_iam_user.py <moto endpoint URL>")
    main(sys.argv[1])
