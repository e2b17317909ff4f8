#!/usr/bin/env python3
"""The bytes botocore sends as the body of a query-protocol call, for comparison with ours.

Reads a JSON list on stdin: {service, operation (e.g. "Publish"), params (the botocore/boto3
parameters; passed in the order of the operation's input shape, maps in the order given),
ours (the body we built)}. Writes a JSON list of
{botocore: the body a real botocore client sent for `params`, reencoded: `ours` parsed as a form
and encoded again the way a verifying server (moto) rebuilds the body it hashes}.
The client never connects: a before-send hook takes the prepared request and stops the call.
"""
import json
import sys
from urllib.parse import parse_qsl

import botocore.session
from botocore.awsrequest import AWSRequest


class Captured(Exception):
    def __init__(self, body):
        super().__init__("captured")
        self.body = body


def capture(request, **_):
    body = request.body
    raise Captured(body.decode("utf-8") if isinstance(body, bytes) else body)


session = botocore.session.get_session()
results = []
for case in json.load(sys.stdin):
    client = session.create_client(
        case["service"], region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
    client.meta.events.register("before-send", capture)
    method = getattr(client, botocore.xform_name(case["operation"]))
    members = client.meta.service_model.operation_model(case["operation"]).input_shape.members
    unknown = set(case["params"]) - set(members)
    if unknown:
        raise SystemExit(f"not members of {case['operation']}: {sorted(unknown)}")
    params = {name: case["params"][name] for name in members if name in case["params"]}
    try:
        method(**params)
        raise SystemExit("botocore sent the request instead of handing it to the hook")
    except Captured as captured:
        sent = captured.body
    # As moto does: the form's fields become a dict, which AWSRequest encodes with urlencode.
    fields = {name: [value] for name, value in parse_qsl(case["ours"], keep_blank_values=True, strict_parsing=True)}
    reencoded = AWSRequest(method="POST", url="http://127.0.0.1:9/", data=fields).prepare().body
    results.append({"botocore": sent, "reencoded": reencoded})
json.dump(results, sys.stdout)
