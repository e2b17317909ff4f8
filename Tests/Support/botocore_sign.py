#!/usr/bin/env python3
"""Signs requests with botocore's own signer, for comparison with ours.

Reads a JSON list of requests on stdin: {service, region, method, url, headers, body,
access_key, secret_key, token, timestamp (YYYYmmddTHHMMSSZ)}. Writes a JSON list of the
headers botocore added (Authorization, X-Amz-Date, X-Amz-Content-SHA256, X-Amz-Security-Token).
"""
import datetime, json, sys
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

results = []
for case in json.load(sys.stdin):
    when = datetime.datetime.strptime(case["timestamp"], "%Y%m%dT%H%M%SZ")
    request = AWSRequest(method=case["method"], url=case["url"], headers=case["headers"], data=case["body"].encode("utf-8"))
    credentials = Credentials(case["access_key"], case["secret_key"], case.get("token"))
    signer_class = botocore.auth.S3SigV4Auth if case["service"] == "s3" else botocore.auth.SigV4Auth
    signer = signer_class(credentials, case["service"], case["region"])
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        signer.add_auth(request)
    results.append({
        name: request.headers.get(name)
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Content-SHA256", "X-Amz-Security-Token")
    })
json.dump(results, sys.stdout)
