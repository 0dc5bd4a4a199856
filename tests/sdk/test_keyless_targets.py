"""Targets without stored keys (issue 13), driven through the official Akeyless Python SDK.

A target created with `use-gw-cloud-identity` stores no key: the gateway acts with its own AWS
identity, the default credential chain of its process. Here that identity is a real IAM user
made in moto for this module, whose key is given to the gateway in its environment
(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION) and nowhere else; every other AWS_*
variable of this process is kept from it, so nothing else can stand in for it. Only target
names matching the gateway's MAYFLY_CLOUD_IDENTITY_TARGETS (here /sdk-cloud/*) may use it.

The SDK's target models have no field for Mayfly's `iam-endpoint` / `sts-endpoint` extension,
so, as in test_issuance.py, targets are created with the SDK's models and pointed at moto with
the SDK's `update_aws_target` given a plain dict. The SDK's `AWSTargetDetails` model carries
`use_gw_cloud_identity` and `gw_cloud_identity_external_id_opt` (an object, the SDK's
`AWSGatewayCloudIdentityExternalIdOpt`: `is_enabled`, `generated_external_id`, `role_arn`; a
plain string there would silently become an object of Nones); Mayfly's extensions
(`credential_source`, `role_arn`, `identity_arn`, ...) are read from the raw JSON.

moto here does not enforce IAM auth (conftest), so any key is accepted; what shows that the
right identity is used is GetCallerIdentity, which moto answers with the IAM user (or assumed
role) owning the key, and with its default `user/moto` for a key it does not know.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import akeyless
import boto3
import pytest
from conftest import make_api, running_gateway
from test_issuance import MOTO_KEY_ID, MOTO_SECRET, TRUST_ANYONE, assert_user_gone, check_iam_user_value, users_under
from test_sdk import expect_error, raw_json

CLOUD_PREFIX = "/sdk-cloud"
S3_READ = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}]}
)
# What the gateway's identity and a chained role need to manage temporary users.
USER_ADMIN = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["iam:*", "sts:*"], "Resource": "*"}]}
)


# ----------------------------------------------------------------------------------------------
# Fixtures


@dataclass
class Identity:
    arn: str
    access_key_id: str
    secret_access_key: str


@pytest.fixture(scope="module")
def gateway_identity(iam) -> Identity:
    """A real IAM user in moto with a key: the identity the gateway process runs as."""
    name = f"sdk-gateway-identity-{uuid.uuid4().hex[:12]}"
    user = iam.create_user(UserName=name, Path="/mayfly-sdk-identity/")["User"]
    iam.put_user_policy(UserName=name, PolicyName="user-admin", PolicyDocument=USER_ADMIN)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    try:
        yield Identity(user["Arn"], key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        iam.delete_user_policy(UserName=name, PolicyName="user-admin")
        iam.delete_user(UserName=name)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def cloud_gateway(request, moto_url, kube_api_server, gateway_identity):
    """A gateway per backend whose own AWS identity is `gateway_identity` (its environment
    only: no profile, no metadata service) and which offers it to /sdk-cloud/* targets."""
    env = {
        "AWS_ACCESS_KEY_ID": gateway_identity.access_key_id,
        "AWS_SECRET_ACCESS_KEY": gateway_identity.secret_access_key,
        "AWS_REGION": "us-east-1",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
        "AWS_CONFIG_FILE": "/nonexistent/config",
        "AWS_EC2_METADATA_DISABLED": "true",
        "MAYFLY_CLOUD_IDENTITY_TARGETS": f"{CLOUD_PREFIX}/*",
    }
    with running_gateway(request.param, moto_url, kube_api_server, env, strip_env_prefixes=("AWS_",)) as gw:
        yield gw


@pytest.fixture(scope="module")
def cloud_api(cloud_gateway) -> akeyless.V2Api:
    client = make_api(cloud_gateway.base_url, cloud_gateway.ca_cert_path)
    yield client
    client.api_client.close()


@pytest.fixture(scope="module")
def cloud_token(cloud_gateway, cloud_api) -> str:
    out = cloud_api.auth(
        akeyless.Auth(access_id=cloud_gateway.admin_access_id, access_key=cloud_gateway.admin_access_key)
    )
    return out.token


# ----------------------------------------------------------------------------------------------
# Helpers


def point_at_moto(api, token, name, moto_url):
    """Sends the target's IAM and STS calls to moto (Mayfly's extension, absent from the SDK's
    models: a plain dict through the SDK's update method; the update changes only these)."""
    api.update_aws_target({"name": name, "iam-endpoint": moto_url, "sts-endpoint": moto_url, "token": token})
    _, target = raw_json(api.get_target, akeyless.GetTarget(name=name, token=token))
    assert target.get("iam-endpoint") == moto_url, target
    assert target.get("sts-endpoint") == moto_url, target


def raw_details(api, token, name) -> tuple[bytes, dict]:
    raw, parsed = raw_json(api.get_target_details, akeyless.GetTargetDetails(name=name, token=token))
    return raw, parsed["value"]["aws_target_details"]


def caller_arn(moto_url, access_key_id, secret_access_key) -> str:
    sts = boto3.client(
        "sts",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
    )
    return sts.get_caller_identity()["Arn"]


# ----------------------------------------------------------------------------------------------
# Tests


def test_a_target_without_keys_acts_as_the_gateway_and_issues_working_credentials(
    cloud_gateway, cloud_api, cloud_token, gateway_identity, iam, moto_url, uid
):
    api, token = cloud_api, cloud_token
    target = f"{CLOUD_PREFIX}/{uid}/aws"
    # The SDK's model refuses None for the keys: empty strings are what its users send.
    created = api.target_create_aws(
        akeyless.TargetCreateAws(
            name=target,
            use_gw_cloud_identity=True,
            access_key_id="",
            access_key="",
            region="us-east-1",
            token=token,
        )
    )
    assert isinstance(created, akeyless.TargetCreateOutput)
    assert isinstance(created.target_id, int) and created.target_id > 0
    point_at_moto(api, token, target, moto_url)

    # Read back through the SDK, on both generations: the gateway's identity, no key.
    for details in (
        api.get_target_details(akeyless.GetTargetDetails(name=target, token=token)),
        api.target_get_details(akeyless.TargetGetDetails(name=target, token=token)),
    ):
        assert isinstance(details, akeyless.GetTargetDetailsOutput)
        assert details.target.target_name == target
        assert details.target.target_id == created.target_id
        aws = details.value.aws_target_details
        assert aws.use_gw_cloud_identity is True
        assert aws.aws_access_key_id == ""
        assert aws.aws_secret_access_key == ""
        assert aws.aws_session_token == ""
        no_external_id = aws.gw_cloud_identity_external_id_opt
        assert isinstance(no_external_id, akeyless.AWSGatewayCloudIdentityExternalIdOpt), no_external_id
        assert no_external_id.is_enabled is False, no_external_id
        assert no_external_id.generated_external_id == "" and no_external_id.role_arn == "", no_external_id
        assert aws.aws_region == "us-east-1"

    # Mayfly's extensions, from the JSON: who the target acts as is the gateway's own user.
    raw, d = raw_details(api, token, target)
    assert d["credential_source"] == "gateway_identity", d
    assert d["identity_arn"] == gateway_identity.arn, d
    assert d["identity_error"] == "", d
    assert d["role_arn"] == "" and d["role_session_name"] == "" and d["role_session_duration"] == 0, d
    assert gateway_identity.secret_access_key.encode() not in raw, "details leak the gateway's own key"
    assert gateway_identity.access_key_id.encode() not in raw

    # An iam_user dynamic secret on it issues a key that works. (A policy of our own: a moto
    # started without MOTO_IAM_LOAD_MANAGED_POLICIES has none of AWS's.)
    policy_arn = iam.create_policy(PolicyName=f"sdk-cloud-s3-read-{uid}", PolicyDocument=S3_READ)["Policy"]["Arn"]
    name = f"{CLOUD_PREFIX}/{uid}/s3-reader"
    api.dynamic_secret_create_aws(
        akeyless.DynamicSecretCreateAws(
            name=name,
            target_name=target,
            access_mode="iam_user",
            aws_user_policies=policy_arn,
            user_ttl="60m",
            token=token,
        )
    )
    value = api.dynamic_secret_get_value(akeyless.DynamicSecretGetValue(name=name, token=token))
    check_iam_user_value(value, 60)
    user = value["user"]
    assert user in users_under(iam, cloud_gateway.iam_user_path)
    attached = iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [policy_arn]
    issued_arn = caller_arn(moto_url, value["access_key_id"], value["secret_access_key"])
    assert issued_arn.endswith(f":user{cloud_gateway.iam_user_path}{user}"), issued_arn
    assert issued_arn != gateway_identity.arn

    # Revoked: the user is gone, and moto no longer knows whose key it was.
    api.dynamic_secret_tmp_creds_delete(
        akeyless.DynamicSecretTmpCredsDelete(name=name, tmp_creds_id=value["id"], token=token)
    )
    assert_user_gone(iam, user)
    assert caller_arn(moto_url, value["access_key_id"], value["secret_access_key"]) != issued_arn
    assert api.dynamic_secret_tmp_creds_get(akeyless.DynamicSecretTmpCredsGet(name=name, token=token)) == []

    assert gateway_identity.secret_access_key not in cloud_gateway.logs(), "the gateway logs its own key"
    assert value["secret_access_key"] not in cloud_gateway.logs(), "the gateway logs an issued key"


@pytest.mark.parametrize("generation", ["new", "old"])
def test_a_target_chained_into_a_role_reads_back_its_generated_external_id(
    cloud_api, cloud_token, iam, moto_url, uid, generation
):
    api, token = cloud_api, cloud_token
    role_name = f"sdk-chain-{generation}-{uid}"
    role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=TRUST_ANYONE)["Role"]["Arn"]
    iam.put_role_policy(RoleName=role_name, PolicyName="user-admin", PolicyDocument=USER_ADMIN)
    # A target with its own key may chain into a role whatever its name.
    target = f"/sdk/{uid}/chained-{generation}"
    fields = dict(
        name=target,
        access_key_id=MOTO_KEY_ID,
        access_key=MOTO_SECRET,
        region="us-east-1",
        role_arn=role_arn,
        generate_external_id=True,
        token=token,
    )
    if generation == "new":
        api.target_create_aws(akeyless.TargetCreateAws(**fields))
    else:
        api.create_aws_target(akeyless.CreateAWSTarget(**fields))
    point_at_moto(api, token, target, moto_url)

    aws = api.get_target_details(akeyless.GetTargetDetails(name=target, token=token)).value.aws_target_details
    opt = aws.gw_cloud_identity_external_id_opt
    assert isinstance(opt, akeyless.AWSGatewayCloudIdentityExternalIdOpt), opt
    assert opt.is_enabled is True, opt
    assert opt.role_arn == role_arn, opt
    external_id = opt.generated_external_id
    assert isinstance(external_id, str) and external_id.strip(), opt
    assert aws.use_gw_cloud_identity is False
    assert aws.aws_access_key_id == MOTO_KEY_ID
    again = api.target_get_details(akeyless.TargetGetDetails(name=target, token=token)).value.aws_target_details
    assert again.gw_cloud_identity_external_id_opt.generated_external_id == external_id, "generated once"

    _, d = raw_details(api, token, target)
    assert d["credential_source"] == "keys", d
    assert d["role_arn"] == role_arn, d
    assert d["gw_cloud_identity_external_id_opt"] == {
        "is_enabled": True,
        "generated_external_id": external_id,
        "role_arn": role_arn,
    }, d
    assert isinstance(d["role_session_name"], str) and d["role_session_name"], d
    assert isinstance(d["role_session_duration"], int) and d["role_session_duration"] >= 900, d
    assert f":assumed-role/{role_name}/" in d["identity_arn"], f"does not act as the role: {d}"
    assert d["identity_error"] == "", d

    # Another target gets its own external id.
    other = f"/sdk/{uid}/chained-{generation}-other"
    api.target_create_aws(akeyless.TargetCreateAws(**{**fields, "name": other}))
    point_at_moto(api, token, other, moto_url)
    theirs = api.get_target_details(akeyless.GetTargetDetails(name=other, token=token)).value.aws_target_details
    assert theirs.gw_cloud_identity_external_id_opt.generated_external_id not in ("", external_id), theirs


def test_the_gateways_identity_is_refused_outside_its_allowed_names(cloud_api, cloud_token, moto_url, uid):
    api, token = cloud_api, cloud_token
    outside = f"/sdk/{uid}/not-offered"
    keyless = dict(name=outside, use_gw_cloud_identity=True, access_key_id="", access_key="", token=token)
    for call, model in (
        (api.target_create_aws, akeyless.TargetCreateAws(**keyless)),
        (api.create_aws_target, akeyless.CreateAWSTarget(**keyless)),
    ):
        _, message = expect_error(403, call, model)
        assert "MAYFLY_CLOUD_IDENTITY_TARGETS" in message, message
    expect_error(404, api.get_target, akeyless.GetTarget(name=outside, token=token))

    # Nor may a keyed target outside the list switch to it; it keeps its key.
    keyed = f"/sdk/{uid}/keyed"
    api.target_create_aws(
        akeyless.TargetCreateAws(
            name=keyed, access_key_id=MOTO_KEY_ID, access_key=MOTO_SECRET, region="us-east-1", token=token
        )
    )
    point_at_moto(api, token, keyed, moto_url)
    _, message = expect_error(
        403,
        api.target_update_aws,
        akeyless.TargetUpdateAws(name=keyed, use_gw_cloud_identity=True, access_key_id="", access_key="", token=token),
    )
    assert "MAYFLY_CLOUD_IDENTITY_TARGETS" in message, message
    aws = api.get_target_details(akeyless.GetTargetDetails(name=keyed, token=token)).value.aws_target_details
    assert aws.use_gw_cloud_identity is False
    assert aws.aws_secret_access_key == MOTO_SECRET

    # Inside the list, keys and the gateway's identity at once are a 400 naming the field.
    _, message = expect_error(
        400,
        api.target_create_aws,
        akeyless.TargetCreateAws(
            name=f"{CLOUD_PREFIX}/{uid}/both",
            use_gw_cloud_identity=True,
            access_key_id=MOTO_KEY_ID,
            access_key=MOTO_SECRET,
            token=token,
        ),
    )
    assert "use-gw-cloud-identity" in message, message
