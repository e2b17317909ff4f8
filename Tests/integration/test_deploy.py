"""Checks of the deployment files in deploy/: the CloudFormation template (cfn-lint, then
least privilege evaluated on the policies the template produces), the systemd unit
(systemd-analyze, and its hardening keys), the example environment file (against the options
cis reads), and `cis serve` ($CIS_BINARY) run the way the unit runs it: from the example
environment under the kernel's MemoryDenyWriteExecute, once embedded and once on AWS
resources in moto ($CIS_TEST_MOTO_ENDPOINT) configured by the stack's EnvironmentFile output."""

import contextlib
import ctypes
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import yaml

from conftest import RawSMTP, moto_client, moto_credentials, queued_id, unused_loopback_port

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "cloudformation.yaml"
UNIT = ROOT / "deploy" / "cis.service"
ENV_EXAMPLE = ROOT / "deploy" / "cis.env.example"

REGION = "eu-west-1"
ACCOUNT = "123456789012"
STACK = "cis-prod"
KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


# --- CloudFormation template: loading and resolving --------------------------------------

class CloudFormationLoader(yaml.SafeLoader):
    """A YAML loader that turns the short intrinsic-function tags (!Ref, !Sub, ...) into
    their long JSON forms ({"Ref": ...}, {"Fn::Sub": ...})."""


def _construct_intrinsic(loader, tag_suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    if tag_suffix == "Condition":
        return {"Condition": value}
    return {f"Fn::{tag_suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template():
    with TEMPLATE.open() as f:
        return yaml.load(f, Loader=CloudFormationLoader)


_NO_VALUE = object()


class ResolvedStack:
    """The template as CloudFormation would see it for one set of parameters: conditions
    evaluated, intrinsic functions resolved, resources given physical ids and ARNs in the
    shapes AWS uses (or, in `deployed`, those of resources really created: logical name ->
    {"Ref": ..., "Arn": ...}), resources whose condition is false left out."""

    def __init__(self, template, parameters, deployed=None):
        self.template = template
        self.deployed = deployed or {}
        self.parameters = {
            name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()
        }
        unknown = set(parameters) - set(self.parameters)
        assert not unknown, f"test uses parameters the template does not declare: {unknown}"
        self.parameters.update(parameters)
        self.conditions = {}
        for name in template.get("Conditions", {}):
            self.conditions[name] = self._condition(name)
        self.resources = {
            name: resource
            for name, resource in template["Resources"].items()
            if "Condition" not in resource or self.conditions[resource["Condition"]]
        }

    def _condition(self, name):
        if name not in self.conditions:
            self.conditions[name] = bool(self.resolve(self.template["Conditions"][name]))
        return self.conditions[name]

    def physical_id(self, name):
        if name in self.deployed:
            return self.deployed[name]["Ref"]
        kind = self.template["Resources"][name]["Type"]
        if kind == "AWS::S3::Bucket":
            return self.parameters["BucketName"] or f"{STACK}-{name.lower()}-1a2b3c4d5e6f"
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{STACK}-{name}-AbCdEf"
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{REGION}:{ACCOUNT}:{STACK}-{name}-AbCdEf"
        if kind == "AWS::IAM::ManagedPolicy":
            properties = self.resolve(self.template["Resources"][name]["Properties"])
            return f"arn:aws:iam::{ACCOUNT}:policy/{properties['ManagedPolicyName']}"
        return f"{STACK}-{name}-AbCdEf"

    def attribute(self, name, attribute):
        if attribute in self.deployed.get(name, {}):
            return self.deployed[name][attribute]
        kind = self.template["Resources"][name]["Type"]
        if (kind, attribute) == ("AWS::S3::Bucket", "Arn"):
            return f"arn:aws:s3:::{self.physical_id(name)}"
        if (kind, attribute) == ("AWS::SQS::Queue", "Arn"):
            return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK}-{name}-AbCdEf"
        if (kind, attribute) == ("AWS::IAM::Role", "Arn"):
            return f"arn:aws:iam::{ACCOUNT}:role/{STACK}-{name}-AbCdEf"
        raise AssertionError(f"the test does not model {kind}.{attribute}")

    def ref(self, name):
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::StackName": STACK,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": _NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        assert name in self.resources, f"Ref to {name}, which does not exist under these conditions"
        return self.physical_id(name)

    def resolve(self, node):
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, value), = node.items()
            if key == "Ref":
                return self.ref(value)
            if key == "Condition":
                return self._condition(value)
            if key == "Fn::GetAtt":
                return self.attribute(*value)
            if key == "Fn::If":
                name, when_true, when_false = value
                return self.resolve(when_true if self._condition(name) else when_false)
            if key == "Fn::Equals":
                left, right = (self.resolve(v) for v in value)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(value[0])
            if key == "Fn::Or":
                return any(self.resolve(v) for v in value)
            if key == "Fn::And":
                return all(self.resolve(v) for v in value)
            if key == "Fn::Join":
                separator, items = value
                return separator.join(str(item) for item in self.resolve(items))
            if key == "Fn::Sub":
                return self._substitute(value)
            assert not key.startswith("Fn::"), f"the test does not model {key}"
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not _NO_VALUE}

    def _substitute(self, text):
        def replace(match):
            name = match.group(1)
            if "." in name:
                return str(self.attribute(*name.split(".", 1)))
            return str(self.ref(name))

        return re.sub(r"\$\{([A-Za-z0-9:.]+)\}", replace, text)

    def properties(self, name):
        assert name in self.resources, f"resource {name} does not exist under these conditions"
        return self.resolve(self.resources[name].get("Properties", {}))

    def resources_of_type(self, kind):
        return [name for name, resource in self.resources.items() if resource["Type"] == kind]

    def outputs(self):
        return {
            name: self.resolve(output["Value"])
            for name, output in self.template["Outputs"].items()
            if "Condition" not in output or self._condition(output["Condition"])
        }


# --- IAM policy evaluation -----------------------------------------------------------------

def _as_list(value):
    return value if isinstance(value, list) else [value]


def _conditions_hold(condition, context):
    for operator, tests in (condition or {}).items():
        for key, expected in tests.items():
            actual = context.get(key)
            if actual is None:
                return False
            if operator == "StringEquals":
                if actual not in _as_list(expected):
                    return False
            elif operator == "ForAllValues:StringLike":
                if not all(any(fnmatch.fnmatchcase(value, pattern) for pattern in _as_list(expected))
                           for value in _as_list(actual)):
                    return False
            else:
                raise AssertionError(f"the test does not model condition operator {operator}")
    return True


def is_allowed(policy, action, resource, context=None):
    """Whether an identity policy with only Allow statements allows `action` on `resource`
    (IAM matching: case-insensitive actions, `*` and `?` wildcards in resources)."""
    for statement in _as_list(policy["Statement"]):
        assert statement["Effect"] == "Allow", "identity policies here only allow"
        if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _as_list(statement["Action"])):
            continue
        if not any(fnmatch.fnmatchcase(resource, r) for r in _as_list(statement["Resource"])):
            continue
        if _conditions_hold(statement.get("Condition"), context or {}):
            return True
    return False


def granted_actions(policy):
    return {a for s in _as_list(policy["Statement"]) for a in _as_list(s["Action"])}


# --- fixtures -------------------------------------------------------------------------------

SCENARIOS = {
    "defaults": {},
    "kms-table-role": {
        "KmsKeyArn": KMS_KEY,
        "EventTableName": "pipeline-events",
        "InstanceRole": "serve",
        "BucketName": "cis-inbound-example",
        "ObjectPrefix": "mail/inbound/",
    },
}


@pytest.fixture(scope="module")
def template():
    return load_template()


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def stack(request, template):
    return ResolvedStack(template, SCENARIOS[request.param])


class Names:
    """Concrete names and ARNs of one resolved stack, for writing requests against its policies."""

    def __init__(self, stack):
        self.bucket = stack.physical_id("InboundBucket")
        self.prefix = stack.parameters["ObjectPrefix"]
        self.queue = stack.attribute("InboundQueue", "Arn")
        self.dead_letter_queue = stack.attribute("DeadLetterQueue", "Arn")
        self.topics = [stack.physical_id(t) for t in
                       ("CreateTopic", "UpdateTopic", "CancelTopic", "ReplyTopic", "FailureTopic")]
        self.table = stack.parameters["EventTableName"]
        self.kms = stack.parameters["KmsKeyArn"]

    def object(self, key):
        return f"arn:aws:s3:::{self.bucket}/{key}"


def via(service):
    return {"kms:ViaService": f"{service}.{REGION}.amazonaws.com"}


# --- cfn-lint -------------------------------------------------------------------------------

def test_cfn_lint_reports_nothing():
    cfn_lint = shutil.which("cfn-lint")
    if cfn_lint is None:
        pytest.fail("cfn-lint is not installed; run scripts/install-deps.sh --with-test-tools")
    result = subprocess.run([cfn_lint, str(TEMPLATE)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"cfn-lint exit {result.returncode}:\n{result.stdout}{result.stderr}"


# --- least privilege --------------------------------------------------------------------------

def test_intake_policy_allows_only_storing_under_the_prefix_and_sending_the_notification(stack):
    names = Names(stack)
    policy = stack.properties("IntakePolicy")["PolicyDocument"]
    expected = {"s3:PutObject", "sqs:SendMessage"}
    if names.kms:
        expected |= {"kms:GenerateDataKey", "kms:Decrypt"}
    assert granted_actions(policy) == expected

    assert is_allowed(policy, "s3:PutObject", names.object(f"{names.prefix}Ab3dE-f9"))
    assert not is_allowed(policy, "s3:PutObject", names.object("elsewhere/Ab3dE-f9"))
    assert not is_allowed(policy, "s3:PutObject", f"arn:aws:s3:::other-bucket/{names.prefix}x")
    assert not is_allowed(policy, "s3:GetObject", names.object(f"{names.prefix}x"))
    assert not is_allowed(policy, "s3:DeleteObject", names.object(f"{names.prefix}x"))
    assert is_allowed(policy, "sqs:SendMessage", names.queue)
    assert not is_allowed(policy, "sqs:SendMessage", names.dead_letter_queue)
    assert not is_allowed(policy, "sqs:ReceiveMessage", names.queue)
    for topic in names.topics:
        assert not is_allowed(policy, "sns:Publish", topic)


def test_consumer_policy_reads_consumes_and_publishes_but_never_writes_objects(stack):
    names = Names(stack)
    policy = stack.properties("ConsumerPolicy")["PolicyDocument"]
    expected = {
        "s3:GetObject",
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes",
        "sns:Publish",
    }
    if names.table:
        expected |= {"dynamodb:GetItem", "dynamodb:PutItem"}
    if names.kms:
        expected |= {"kms:Decrypt", "kms:GenerateDataKey"}
    assert granted_actions(policy) == expected

    key = names.object(f"{names.prefix}Ab3dE-f9")
    assert is_allowed(policy, "s3:GetObject", key)
    assert not is_allowed(policy, "s3:GetObject", names.object("elsewhere/x"))
    for action in ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl"):
        assert not is_allowed(policy, action, key), action
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"):
        assert is_allowed(policy, action, names.queue), action
        assert not is_allowed(policy, action, names.dead_letter_queue), action
    assert not is_allowed(policy, "sqs:SendMessage", names.queue)
    assert not is_allowed(policy, "sqs:DeleteQueue", names.queue)
    assert not is_allowed(policy, "sqs:PurgeQueue", names.queue)
    for topic in names.topics:
        assert is_allowed(policy, "sns:Publish", topic)
        assert not is_allowed(policy, "sns:DeleteTopic", topic)
    assert not is_allowed(policy, "sns:Publish", f"arn:aws:sns:{REGION}:{ACCOUNT}:someone-elses-topic")

    table_arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{names.table or 'pipeline-events'}"
    assert is_allowed(policy, "dynamodb:GetItem", table_arn) == bool(names.table)
    # PutItem only for the sender policy's creator items, never the pipeline's own items.
    creator = {"dynamodb:LeadingKeys": ["cis_creating_domain#uid-1@example.com"]}
    assert is_allowed(policy, "dynamodb:PutItem", table_arn, creator) == bool(names.table)
    assert not is_allowed(policy, "dynamodb:PutItem", table_arn, {"dynamodb:LeadingKeys": ["original_event#uid-1"]})
    assert not is_allowed(policy, "dynamodb:PutItem", table_arn)
    assert not is_allowed(policy, "dynamodb:GetItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/other")


def test_kms_use_is_granted_only_with_a_key_and_only_through_the_services_that_need_it(stack):
    names = Names(stack)
    intake = stack.properties("IntakePolicy")["PolicyDocument"]
    consumer = stack.properties("ConsumerPolicy")["PolicyDocument"]
    if not names.kms:
        assert not any(a.startswith("kms:") for a in granted_actions(intake) | granted_actions(consumer))
        return
    assert is_allowed(intake, "kms:GenerateDataKey", names.kms, via("s3"))
    assert is_allowed(intake, "kms:GenerateDataKey", names.kms, via("sqs"))
    assert is_allowed(intake, "kms:Decrypt", names.kms, via("sqs"))
    assert not is_allowed(intake, "kms:Decrypt", names.kms, via("s3")), "intake must not read objects"
    assert not is_allowed(intake, "kms:GenerateDataKey", names.kms), "direct KMS calls must be refused"
    assert not is_allowed(intake, "kms:GenerateDataKey", names.kms, via("sns"))
    for service in ("s3", "sqs", "sns"):
        assert is_allowed(consumer, "kms:Decrypt", names.kms, via(service)), service
    assert is_allowed(consumer, "kms:GenerateDataKey", names.kms, via("sns"))
    assert not is_allowed(consumer, "kms:GenerateDataKey", names.kms, via("s3")), "consumer must not write objects"
    assert not is_allowed(consumer, "kms:Decrypt", names.kms)
    other_key = KMS_KEY.replace("1234abcd", "99999999")
    assert not is_allowed(consumer, "kms:Decrypt", other_key, via("s3"))


def test_no_policy_statement_uses_wildcard_actions_or_any_resource(stack):
    names = Names(stack)
    raw_messages = names.object(f"{names.prefix}*")
    for name in stack.resources_of_type("AWS::IAM::ManagedPolicy"):
        for statement in _as_list(stack.properties(name)["PolicyDocument"]["Statement"]):
            for action in _as_list(statement["Action"]):
                assert "*" not in action, f"{name}: wildcard action {action}"
            for resource in _as_list(statement["Resource"]):
                assert "*" not in resource or resource == raw_messages, f"{name}: wildcard resource {resource}"


def test_instance_role_attaches_the_policies_its_parameter_names():
    template = load_template()
    for role, expected in (("serve", {"IntakePolicy", "ConsumerPolicy"}),
                           ("intake", {"IntakePolicy"}), ("consumer", {"ConsumerPolicy"})):
        stack = ResolvedStack(template, {"InstanceRole": role})
        attached = set(stack.properties("InstanceRoleForCis")["ManagedPolicyArns"])
        assert attached == {stack.physical_id(p) for p in expected}, role
        trust = stack.properties("InstanceRoleForCis")["AssumeRolePolicyDocument"]["Statement"]
        assert [s["Principal"] for s in trust] == [{"Service": "ec2.amazonaws.com"}]
        assert "InstanceProfileForCis" in stack.resources
    stack = ResolvedStack(template, {"InstanceRole": "none"})
    assert not stack.resources_of_type("AWS::IAM::Role")
    assert not stack.resources_of_type("AWS::IAM::InstanceProfile")


# --- bucket, queues, topics --------------------------------------------------------------------

def test_bucket_is_private_encrypted_and_owner_enforced(stack):
    bucket = stack.properties("InboundBucket")
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    if stack.parameters["KmsKeyArn"]:
        assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms",
                                                         "KMSMasterKeyID": stack.parameters["KmsKeyArn"]}
        assert rule["BucketKeyEnabled"] is True
    else:
        assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert stack.template["Resources"]["InboundBucket"]["DeletionPolicy"] == "Retain"


def test_bucket_policy_refuses_every_request_without_tls(stack):
    names = Names(stack)
    policy = stack.properties("InboundBucketPolicy")
    assert policy["Bucket"] == names.bucket
    denials = [s for s in policy["PolicyDocument"]["Statement"]
               if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}]
    assert len(denials) == 1
    (deny,) = denials
    assert deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert set(deny["Resource"]) == {f"arn:aws:s3:::{names.bucket}", f"arn:aws:s3:::{names.bucket}/*"}


def test_lifecycle_expires_raw_messages_under_the_prefix_and_aborts_multipart_uploads(stack):
    rules = {r["Id"]: r for r in stack.properties("InboundBucket")["LifecycleConfiguration"]["Rules"]}
    assert all(r["Status"] == "Enabled" for r in rules.values())
    expiring = [r for r in rules.values() if "ExpirationInDays" in r]
    assert len(expiring) == 1
    assert expiring[0]["Prefix"] == stack.parameters["ObjectPrefix"]
    assert str(expiring[0]["ExpirationInDays"]) == stack.parameters["RawMessageRetentionDays"]
    aborting = [r for r in rules.values() if "AbortIncompleteMultipartUpload" in r]
    assert len(aborting) == 1 and aborting[0]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] >= 1


def test_queue_redrives_to_the_dead_letter_queue_and_both_are_encrypted(stack):
    queue = stack.properties("InboundQueue")
    dead_letters = stack.properties("DeadLetterQueue")
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == stack.attribute("DeadLetterQueue", "Arn")
    assert str(queue["RedrivePolicy"]["maxReceiveCount"]) == stack.parameters["MaxReceiveCount"]
    assert stack.template["Parameters"]["MaxReceiveCount"]["Default"] == 5
    assert "RedrivePolicy" not in dead_letters
    for properties in (queue, dead_letters):
        if stack.parameters["KmsKeyArn"]:
            assert properties["KmsMasterKeyId"] == stack.parameters["KmsKeyArn"]
            assert "SqsManagedSseEnabled" not in properties
        else:
            assert properties["SqsManagedSseEnabled"] is True
    assert dead_letters["MessageRetentionPeriod"] >= queue["MessageRetentionPeriod"], \
        "a message keeps its enqueue time in the DLQ; a shorter DLQ retention would drop it early"
    assert queue["ReceiveMessageWaitTimeSeconds"] == 20
    assert queue["VisibilityTimeout"] == stack.parameters["QueueVisibilityTimeout"]
    assert int(stack.template["Parameters"]["QueueVisibilityTimeout"]["Default"]) >= 120


def test_queues_and_topics_refuse_requests_without_tls(stack):
    names = Names(stack)
    queues = stack.properties("QueuesPolicy")
    topics = stack.properties("TopicsPolicy")
    for policy, covered in ((queues, {names.queue, names.dead_letter_queue}), (topics, set(names.topics))):
        (deny,) = policy["PolicyDocument"]["Statement"]
        assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert set(deny["Resource"]) == covered
    assert set(topics["Topics"]) == set(names.topics)


def test_five_route_topics_encrypted_with_the_key_when_given(stack):
    topics = stack.resources_of_type("AWS::SNS::Topic")
    assert sorted(topics) == sorted(["CreateTopic", "UpdateTopic", "CancelTopic", "ReplyTopic", "FailureTopic"])
    for topic in topics:
        assert stack.properties(topic).get("KmsMasterKeyId") == (stack.parameters["KmsKeyArn"] or None)


def test_outputs_name_every_resource_and_an_environment_block_for_cis(stack):
    names = Names(stack)
    outputs = stack.outputs()
    assert outputs["BucketName"] == names.bucket
    assert outputs["QueueUrl"] == stack.physical_id("InboundQueue")
    assert outputs["DeadLetterQueueUrl"] == stack.physical_id("DeadLetterQueue")
    assert outputs["IntakePolicyArn"] == stack.physical_id("IntakePolicy")
    assert outputs["ConsumerPolicyArn"] == stack.physical_id("ConsumerPolicy")
    environment = dict(line.split("=", 1) for line in outputs["EnvironmentFile"].splitlines()
                       if line and not line.startswith("#"))
    expected = {
        "CIS_BACKEND": "aws",
        "AWS_REGION": REGION,
        "CIS_S3_BUCKET": names.bucket,
        "CIS_S3_PREFIX": names.prefix,
        "SQS_URL": stack.physical_id("InboundQueue"),
        "NEW_EVENT_REQUEST": stack.physical_id("CreateTopic"),
        "EVENT_UPDATE": stack.physical_id("UpdateTopic"),
        "EVENT_CANCELLATION": stack.physical_id("CancelTopic"),
        "NEW_EVENT_REPLY": stack.physical_id("ReplyTopic"),
        "FAILED_EVENT_CREATE": stack.physical_id("FailureTopic"),
        "CIS_VISIBILITY_TIMEOUT": stack.parameters["QueueVisibilityTimeout"],
        "CIS_SENDER_POLICY": stack.parameters["SenderPolicy"],
    }
    if names.table:
        expected |= {"CIS_EVENT_INDEX": "dynamodb", "DYNAMODB_TABLE": names.table}
    else:
        expected |= {"CIS_EVENT_INDEX": "none"}
    assert environment == expected
    documented = example_variables()
    assert set(environment) <= set(documented), set(environment) - set(documented)


# --- environment file example ------------------------------------------------------------------

def example_variables(set_only=False):
    """Variables of cis.env.example, set (`NAME=value`) or, unless `set_only`, shown commented
    out (`#NAME=value`)."""
    variables = {}
    pattern = r"^([A-Z][A-Z0-9_]*)=(.*)$" if set_only else r"^#?\s?([A-Z][A-Z0-9_]*)=(.*)$"
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(pattern, line)
        if match:
            variables[match.group(1)] = match.group(2)
    return variables


def test_env_example_lists_every_option_and_matches_the_unit():
    variables = example_variables()
    required = {
        "CIS_LISTEN", "CIS_HOSTNAME", "CIS_RECIPIENTS", "CIS_TLS_CERT", "CIS_TLS_KEY", "CIS_REQUIRE_TLS",
        "CIS_MAX_MESSAGE_SIZE", "CIS_MAX_RECIPIENTS", "CIS_MAX_CONNECTIONS", "CIS_MAX_CONNECTIONS_PER_IP",
        "CIS_COMMAND_TIMEOUT", "CIS_DATA_TIMEOUT", "CIS_BACKEND", "CIS_DATA_DIR", "CIS_S3_PREFIX",
        "CIS_LOG_FORMAT", "CIS_S3_BUCKET", "SQS_URL", "NEW_EVENT_REQUEST", "EVENT_UPDATE",
        "EVENT_CANCELLATION", "FAILED_EVENT_CREATE", "NEW_EVENT_REPLY", "DYNAMODB_TABLE",
        "CIS_CONSUMER_CONCURRENCY", "CIS_EVENT_INDEX", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    }
    assert required <= set(variables), sorted(required - set(variables))
    unit = parse_unit(UNIT.read_text())
    state_directory = unit["Service"]["StateDirectory"][-1]
    assert variables["CIS_DATA_DIR"] == f"/var/lib/{state_directory}"
    assert variables["CIS_DATA_DIR"] in unit["Service"]["ReadWritePaths"][-1].split()
    host, port = variables["CIS_LISTEN"].rsplit(":", 1)
    assert int(port) == 25 and "CAP_NET_BIND_SERVICE" in unit["Service"]["AmbientCapabilities"][-1]
    assert unit["Service"]["EnvironmentFile"] == ["/etc/cis/cis.env"]


SOURCES = ROOT / "Sources"


def test_every_variable_in_the_env_example_is_one_cis_reads():
    read = set()
    for source in SOURCES.rglob("*.swift"):
        read |= set(re.findall(r'"([A-Z][A-Z0-9_]+)"', source.read_text(errors="replace")))
    unknown = sorted(set(example_variables()) - read)
    assert not unknown, f"cis.env.example sets variables no source file reads: {unknown}"


def test_every_option_variable_of_the_command_line_is_in_the_env_example():
    options = set()
    for source in (SOURCES / "cis").rglob("*.swift"):
        options |= set(re.findall(r'variable: "([A-Z][A-Z0-9_]+)"', source.read_text(errors="replace")))
    assert len(options) > 20, "the option-reading convention in Sources/cis changed; update this test"
    missing = sorted(options - set(example_variables()))
    assert not missing, f"add these to deploy/cis.env.example (commented out with their default): {missing}"


# --- systemd unit ------------------------------------------------------------------------------

def parse_unit(text):
    """Sections of a unit file as {section: {key: [values in order]}} (keys may repeat)."""
    sections, current = {}, None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None and "=" in line, f"unexpected line in unit: {raw!r}"
        key, value = (part.strip() for part in line.split("=", 1))
        current.setdefault(key, []).append(value)
    return sections


HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "ProtectClock": "yes",
    "ProtectHostname": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "RestrictNamespaces": "yes",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
    "RestrictRealtime": "yes",
    "RestrictSUIDSGID": "yes",
    "SystemCallArchitectures": "native",
    "CapabilityBoundingSet": "CAP_NET_BIND_SERVICE",
    "AmbientCapabilities": "CAP_NET_BIND_SERVICE",
    "ExecStart": "/usr/local/bin/cis serve",
    "EnvironmentFile": "/etc/cis/cis.env",
    "Restart": "on-failure",
    "KillSignal": "SIGTERM",
}


def systemd_seconds(value):
    units = {"ms": 0.001, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}
    total = 0.0
    for number, unit in re.findall(r"(\d+)\s*([a-z]*)", value):
        total += int(number) * units[unit or "s"]
    return total


def test_unit_hardening_keys():
    service = parse_unit(UNIT.read_text())["Service"]
    problems = {key: service.get(key) for key, value in HARDENING.items() if service.get(key) != [value]}
    assert not problems, f"hardening keys missing or different: {problems}"
    filters = service["SystemCallFilter"]
    assert filters[0] == "@system-service" and all(f.startswith("~") for f in filters[1:])
    assert service.get("DynamicUser") == ["yes"] or (service.get("User") == ["cis"] and
                                                     service.get("StateDirectory") == ["cis"])
    assert "/var/lib/cis" in service["ReadWritePaths"][-1].split()
    assert int(service["LimitNOFILE"][-1]) >= 4096
    shutdown_timeout = int(example_variables()["CIS_SHUTDOWN_TIMEOUT"])
    assert systemd_seconds(service["TimeoutStopSec"][-1]) >= shutdown_timeout + 30, \
        "systemd must not kill cis before its own shutdown deadline for a message in flight has passed"


def test_unit_passes_systemd_analyze_verify_and_security(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        warnings.warn("systemd-analyze is not installed: the unit was checked by parsing only "
                      "(test_unit_hardening_keys)")
        test_unit_hardening_keys()
        return
    # verify refuses an ExecStart binary that does not exist on this machine; point it at one that does.
    binary = os.environ.get("CIS_BINARY") or shutil.which("true")
    unit = tmp_path / "cis.service"
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/cis", binary))
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), \
        f"systemd-analyze verify:\n{result.stdout}{result.stderr}"
    # Overall exposure on systemd's 0-10 scale; 20 here means at most 2.0.
    result = subprocess.run([analyze, "security", "--offline=yes", "--threshold=20", str(UNIT)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"systemd-analyze security:\n{result.stdout[-600:]}{result.stderr}"


# --- the binary under the unit's memory protection ------------------------------------------

PR_SET_MDWE = 65
PR_MDWE_REFUSE_EXEC_GAIN = 1


def refuse_writable_executable_memory():
    """Runs in the child before exec: the kernel's own MemoryDenyWriteExecute (Linux 6.3+),
    inherited across exec, refusing what systemd's MemoryDenyWriteExecute=yes refuses."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_MDWE)")


def mdwe_supported():
    probe = subprocess.run(
        [sys.executable, "-c", "import ctypes,sys; l=ctypes.CDLL(None); sys.exit(l.prctl(65, 1, 0, 0, 0) != 0)"],
        timeout=30)
    return probe.returncode == 0


INVITE_MESSAGE = "\r\n".join([
    "From: Organizer <organizer@example.org>",
    "To: create@localhost",
    "Subject: Invitation: deploy check",
    "MIME-Version: 1.0",
    "Content-Type: text/calendar; method=REQUEST; charset=UTF-8",
    "",
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//cis tests//deploy//EN",
    "METHOD:REQUEST",
    "BEGIN:VEVENT",
    "UID:mdwe-check-1@example.org",
    "SEQUENCE:0",
    "DTSTAMP:20260101T090000Z",
    "DTSTART:20260115T100000Z",
    "DTEND:20260115T110000Z",
    "SUMMARY:deploy check",
    "ORGANIZER;CN=Organizer:mailto:organizer@example.org",
    "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:create@localhost",
    "END:VEVENT",
    "END:VCALENDAR",
    "",
])


def require_cis_binary():
    binary = os.environ.get("CIS_BINARY")
    if not binary or not os.access(binary, os.X_OK):
        pytest.fail("CIS_BINARY must name the built cis binary (make test sets it)")
    if not mdwe_supported():
        pytest.skip("this kernel has no PR_SET_MDWE (Linux 6.3+): MemoryDenyWriteExecute not checked")
    return binary


@contextlib.contextmanager
def serve_one_invite(environment, tmp_path):
    """Runs `cis serve` with exactly `environment` (as systemd would from the unit and its
    environment file) under the kernel's MemoryDenyWriteExecute and delivers INVITE_MESSAGE over
    SMTP; yields the message id from the 250 reply and a function returning the log so far;
    on leaving, stops cis with SIGTERM and expects exit status 0."""
    binary = require_cis_binary()
    port = unused_loopback_port()
    environment = dict(environment, CIS_LISTEN=f"127.0.0.1:{port}", CIS_HOSTNAME="mx.test",
                       CIS_RECIPIENTS="create@localhost", PATH="/usr/bin:/bin", HOME=str(tmp_path))
    log_path = tmp_path / "cis.log"

    def log_text():
        return log_path.read_text(errors="replace")

    with log_path.open("w") as log:
        process = subprocess.Popen([binary, "serve"], env=environment, stdout=log, stderr=subprocess.STDOUT,
                                   preexec_fn=refuse_writable_executable_memory)
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, f"cis exited {process.returncode}:\n{log_text()}"
                try:
                    smtp = RawSMTP(port)
                    break
                except ConnectionRefusedError:
                    assert time.monotonic() < deadline, "cis did not listen within 30 s"
                    time.sleep(0.2)
            try:
                assert smtp.read_reply()[1].startswith("220 mx.test")
                assert smtp.command("EHLO client.test")[0] == 250
                assert smtp.command("MAIL FROM:<organizer@example.org>")[0] == 250
                assert smtp.command("RCPT TO:<create@localhost>")[0] == 250
                assert smtp.command("DATA")[0] == 354
                queued = smtp.command(INVITE_MESSAGE + ".")[1]
                assert queued.startswith("250 2.0.0"), f"{queued}\n{log_text()}"
                assert smtp.command("QUIT")[0] == 221
            finally:
                smtp.close()
            yield queued_id(queued), log_text
            assert process.poll() is None, f"cis exited {process.returncode}:\n{log_text()}"
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0, log_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def wait_for(condition, what, log_text, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds} s:\n{log_text()}"
        time.sleep(0.2)


def test_cis_serve_with_the_example_environment_runs_without_writable_executable_memory(tmp_path):
    data = tmp_path / "data"
    environment = {k: v for k, v in example_variables(set_only=True).items()
                   if not k.startswith(("AWS_", "CIS_TLS_")) and k != "DYNAMODB_TABLE"}
    environment.update(CIS_BACKEND="local", CIS_DATA_DIR=str(data), CIS_EVENT_INDEX="local")
    with serve_one_invite(environment, tmp_path) as (message_id, log_text):
        # The consumer half (GMime, libical, the embedded topic) under the same protection.
        routed = data / "topics" / "create.jsonl"
        wait_for(lambda: routed.exists() and routed.read_text().endswith("\n"), "routing to create", log_text)
    assert "mdwe-check-1@example.org" in routed.read_text()
    stored = data / "objects" / f"{environment['CIS_S3_PREFIX']}{message_id}"
    assert stored.read_bytes().endswith(INVITE_MESSAGE.encode())


def test_the_stacks_environment_block_runs_cis_against_the_resources_it_names(tmp_path):
    """Creates in moto what the template creates (names from moto, properties from the
    resolved template), fills /etc/cis/cis.env as docs/deploy.md says (the example with its AWS
    block replaced by the stack's EnvironmentFile output) and runs cis with it."""
    endpoint = os.environ.get("CIS_TEST_MOTO_ENDPOINT")
    if not endpoint:
        pytest.fail("CIS_TEST_MOTO_ENDPOINT must name a running moto_server (make test starts one)")

    def client(service):
        return moto_client(service, endpoint, REGION)

    s3, sqs, sns, dynamodb = client("s3"), client("sqs"), client("sns"), client("dynamodb")
    suffix = os.urandom(5).hex()
    parameters = {"BucketName": f"cis-deploy-{suffix}", "EventTableName": f"cis-deploy-events-{suffix}"}
    planned = ResolvedStack(load_template(), parameters)

    def queue(logical, attributes):
        url = sqs.create_queue(QueueName=f"cis-deploy-{logical}-{suffix}",
                               Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return {"Ref": url, "Arn": arn}

    s3.create_bucket(Bucket=planned.physical_id("InboundBucket"),
                     CreateBucketConfiguration={"LocationConstraint": REGION})
    dead_letters_properties = planned.properties("DeadLetterQueue")
    deployed = {"DeadLetterQueue": queue("dlq", {"MessageRetentionPeriod": dead_letters_properties["MessageRetentionPeriod"]})}
    inbound = ResolvedStack(load_template(), parameters, deployed).properties("InboundQueue")
    deployed["InboundQueue"] = queue("inbound", {
        "VisibilityTimeout": inbound["VisibilityTimeout"],
        "RedrivePolicy": json.dumps(inbound["RedrivePolicy"]),
    })
    for logical in ("CreateTopic", "UpdateTopic", "CancelTopic", "ReplyTopic", "FailureTopic"):
        deployed[logical] = {"Ref": sns.create_topic(Name=f"cis-deploy-{logical}-{suffix}")["TopicArn"]}
    subscriber = queue("create-subscriber", {})
    sns.subscribe(TopicArn=deployed["CreateTopic"]["Ref"], Protocol="sqs", Endpoint=subscriber["Arn"])
    dynamodb.create_table(
        TableName=parameters["EventTableName"], BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}])
    stack = ResolvedStack(load_template(), parameters, deployed)

    environment = {k: v for k, v in example_variables(set_only=True).items() if not k.startswith("CIS_TLS_")}
    block = [line for line in stack.outputs()["EnvironmentFile"].splitlines() if line and not line.startswith("#")]
    environment.update(line.split("=", 1) for line in block)
    environment.update(CIS_DATA_DIR=str(tmp_path / "data"), CIS_POLL_WAIT="1",
                       **moto_credentials(), AWS_ENDPOINT_URL=endpoint,
                       AWS_EC2_METADATA_DISABLED="true", AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:9/")
    assert environment["CIS_BACKEND"] == "aws" and environment["CIS_EVENT_INDEX"] == "dynamodb"

    published = []

    def receive():
        published.extend(sqs.receive_message(QueueUrl=subscriber["Ref"], WaitTimeSeconds=1).get("Messages", []))
        return published

    with serve_one_invite(environment, tmp_path) as (message_id, log_text):
        wait_for(receive, "a publication on the create topic", log_text)
    key = f"{environment['CIS_S3_PREFIX']}{message_id}"
    stored = s3.get_object(Bucket=stack.physical_id("InboundBucket"), Key=key)["Body"].read()
    assert stored.endswith(INVITE_MESSAGE.encode())
    (notification,) = published
    event = json.loads(json.loads(notification["Body"])["Message"])
    assert (event["original_uid"], event["key"]) == ("mdwe-check-1@example.org", key)
    left = sqs.get_queue_attributes(QueueUrl=deployed["InboundQueue"]["Ref"], AttributeNames=["All"])["Attributes"]
    assert (left["ApproximateNumberOfMessages"], left["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")
