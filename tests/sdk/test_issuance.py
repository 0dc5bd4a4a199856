"""Issuing and revoking credentials, driven ONLY through the official Akeyless Python SDK.

The "done when" of issue 3: the SDK can fetch values, list, update and revoke tmp creds. The
targets point at moto (conftest's `moto_url`, without IAM auth enforcement, so any well-formed
key works), and boto3 checks in moto what the gateway really did: the user exists under the
gateway's IAM path with the producer's policy, and is gone after revocation. Each gateway uses
its own IAM path (conftest), and each test its own names, so nothing here depends on what
another test left behind.

What is checked comes from docs/api.md ("Credential values", "Tmp creds"): values are flat
objects of strings; tmp creds are a JSON array of `TmpUserData`; re-timing is bounded by the
producer's max TTL (by default its user-ttl); an STS credential cannot be revoked (400).

Remember the SDK's habits: `get_dynamic_secret_value` returns `dict(str, object)` (the JSON
types survive), `dynamic_secret_get_value` returns `dict(str, str)` (the SDK turns every value
into a string, so types are checked on the raw answer), the tmp-creds calls return
`list[TmpUserData]` with `creation_date` parsed as a datetime, and revoke/update return None.
The update models require `host` (what the Akeyless CLI sends as the gateway URL); "" is what
the SDK's users pass when they talk to the gateway directly.
"""

from __future__ import annotations

import datetime
import json
import time
import urllib.parse

import akeyless
import boto3
import pytest
from botocore.exceptions import ClientError
from dateutil.parser import isoparse
from test_sdk import expect_error, raw_json

POLICY_S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
# Any well-formed key works on a moto without auth enforcement.
MOTO_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
MOTO_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TRUST_ANYONE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
)
IAM_USER_KEYS = ("access_key_id", "secret_access_key", "id", "user", "type", "ttl_in_minutes", "expiration")
STS_KEYS = ("access_key_id", "secret_access_key", "security_token", "expiration", "ttl_in_minutes", "id")
# Slack for clocks and slow machines when checking an expiration against "now + TTL".
CLOCK_SLACK = datetime.timedelta(minutes=2)


# ----------------------------------------------------------------------------------------------
# Helpers


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def make_moto_target(api, token, name, moto_url):
    """An AWS target whose IAM and STS endpoints are moto.

    The SDK's target models have no field for Mayfly's `iam-endpoint` / `sts-endpoint`
    extension, so the target is created with the SDK's model and the endpoints are set with the
    SDK's own `update_aws_target` method given a plain dict body (the SDK serializes a dict as
    is; the gateway's update changes only the fields given)."""
    api.target_create_aws(
        akeyless.TargetCreateAws(
            name=name, access_key_id=MOTO_KEY_ID, access_key=MOTO_SECRET, region="us-east-1", token=token
        )
    )
    api.update_aws_target({"name": name, "iam-endpoint": moto_url, "sts-endpoint": moto_url, "token": token})
    _, target = raw_json(api.get_target, akeyless.GetTarget(name=name, token=token))
    # Without this, a value request would go to real AWS (and fail for reasons unrelated to the test).
    assert target.get("iam-endpoint") == moto_url, target
    assert target.get("sts-endpoint") == moto_url, target


def make_iam_user_producer(api, token, name, target, user_ttl="60m"):
    api.gateway_create_producer_aws(
        akeyless.GatewayCreateProducerAws(
            name=name,
            target_name=target,
            access_mode="iam_user",
            aws_user_policies=POLICY_S3_READ,
            user_ttl=user_ttl,
            token=token,
        )
    )


def assert_expires_in(value, minutes):
    expires = isoparse(value["expiration"])
    assert expires.tzinfo is not None, value["expiration"]
    wanted = now() + datetime.timedelta(minutes=minutes)
    assert wanted - CLOCK_SLACK <= expires <= wanted + CLOCK_SLACK, (value["expiration"], minutes)


def check_iam_user_value(value, ttl_minutes):
    """The `iam_user` value of docs/api.md: strings only, with the keys of programmatic access."""
    assert isinstance(value, dict), value
    for key in IAM_USER_KEYS:
        assert isinstance(value.get(key), str) and value[key], f"{key} missing or not a string in {value}"
    for key, item in value.items():
        assert isinstance(item, str), f"{key} is {type(item).__name__}, not a string: {item!r}"
    assert value["type"] == "aws_dynamic_user"
    assert value["ttl_in_minutes"] == str(ttl_minutes)
    assert "password" not in value, "no console access, so no password"
    assert len(value["user"]) <= 64, value["user"]
    assert_expires_in(value, ttl_minutes)


def check_sts_value(value, ttl_minutes):
    assert isinstance(value, dict), value
    for key in STS_KEYS:
        assert isinstance(value.get(key), str) and value[key], f"{key} missing or not a string in {value}"
    for key, item in value.items():
        assert isinstance(item, str), f"{key} is {type(item).__name__}, not a string: {item!r}"
    assert value["ttl_in_minutes"] == str(ttl_minutes)
    assert_expires_in(value, ttl_minutes)


def users_under(iam, path) -> dict[str, dict]:
    """The IAM users under `path` in moto, by name (every page)."""
    users = {}
    for page in iam.get_paginator("list_users").paginate(PathPrefix=path):
        for user in page["Users"]:
            users[user["UserName"]] = user
    return users


def assert_user_gone(iam, name, within=30.0):
    """The user is deleted, now or (after a bulk revocation, which the gateway hands to its
    revoker and answers at once) within `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        try:
            iam.get_user(UserName=name)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "NoSuchEntity", e.response
            return
        assert time.monotonic() < deadline, f"user {name} still exists after {within}s"
        time.sleep(0.2)


def wait_until_no_tmp_creds(api, token, name, within=30.0):
    """Bulk revocation ends credentials right after the answer: wait until none is listed."""
    deadline = time.monotonic() + within
    while api.dynamic_secret_tmp_creds_get(akeyless.DynamicSecretTmpCredsGet(name=name, token=token)):
        assert time.monotonic() < deadline, f"tmp creds of {name} still listed after {within}s"
        time.sleep(0.2)


def tmp_creds_by_id(listed) -> dict:
    assert isinstance(listed, list), listed
    for entry in listed:
        assert isinstance(entry, akeyless.TmpUserData), entry
    return {entry.id: entry for entry in listed}


def raw_tmp_creds(api, token, name) -> dict[str, dict]:
    """The tmp-creds list as JSON, for the Mayfly additions the SDK's model drops."""
    _, listed = raw_json(api.gateway_get_tmp_users, akeyless.GatewayGetTmpUsers(name=name, token=token))
    assert isinstance(listed, list), listed
    return {entry["id"]: entry for entry in listed}


# ----------------------------------------------------------------------------------------------
# iam_user


def test_iam_user_values_on_both_generations_are_real_users_with_the_policy(gateway, api, token, iam, moto_url, uid):
    target = f"/sdk/{uid}/moto"
    make_moto_target(api, token, target, moto_url)
    name = f"/sdk/{uid}/s3-reader"
    make_iam_user_producer(api, token, name, target)

    old = api.get_dynamic_secret_value(akeyless.GetDynamicSecretValue(name=name, token=token))
    check_iam_user_value(old, 60)
    new = api.dynamic_secret_get_value(akeyless.DynamicSecretGetValue(name=name, token=token))
    check_iam_user_value(new, 60)
    # dynamic_secret_get_value's model turns every value into a string; check the JSON itself.
    _, raw = raw_json(api.dynamic_secret_get_value, akeyless.DynamicSecretGetValue(name=name, token=token))
    check_iam_user_value(raw, 60)

    values = [old, new, raw]
    assert len({v["id"] for v in values}) == 3, "every value is its own tmp creds"
    assert len({v["user"] for v in values}) == 3, "every value is its own IAM user"
    assert len({v["access_key_id"] for v in values}) == 3

    users = users_under(iam, gateway.iam_user_path)
    for value in values:
        user = value["user"]
        assert user in users, f"{user} is not under {gateway.iam_user_path}: {sorted(users)}"
        assert users[user]["Path"] == gateway.iam_user_path
        attached = iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
        assert [p["PolicyArn"] for p in attached] == [POLICY_S3_READ]
        keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        assert [k["AccessKeyId"] for k in keys] == [value["access_key_id"]]
        tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=user)["Tags"]}
        assert value["id"] in tags.values(), f"the user is not tagged with its tmp-creds id: {tags}"
        assert name in tags.values(), f"the user is not tagged with its producer: {tags}"

    api.gateway_revoke_tmp_users(akeyless.GatewayRevokeTmpUsers(name=name, revoke_all=True, token=token))
    for value in values:
        assert_user_gone(iam, value["user"])


def test_tmp_creds_are_listed_retimed_within_the_max_ttl_and_revoked(gateway, api, token, iam, moto_url, uid):
    target = f"/sdk/{uid}/moto"
    make_moto_target(api, token, target, moto_url)
    name = f"/sdk/{uid}/retimed"
    make_iam_user_producer(api, token, name, target, user_ttl="60m")
    started = now()

    first = api.get_dynamic_secret_value(akeyless.GetDynamicSecretValue(name=name, token=token))
    second = api.dynamic_secret_get_value(akeyless.DynamicSecretGetValue(name=name, token=token))
    issued = {first["id"]: first, second["id"]: second}

    # Listing, on both generations.
    for listed in (
        api.gateway_get_tmp_users(akeyless.GatewayGetTmpUsers(name=name, token=token)),
        api.dynamic_secret_tmp_creds_get(akeyless.DynamicSecretTmpCredsGet(name=name, token=token)),
    ):
        by_id = tmp_creds_by_id(listed)
        assert set(by_id) == set(issued), (sorted(by_id), sorted(issued))
        for entry in by_id.values():
            assert isinstance(entry.creation_date, datetime.datetime), entry.creation_date
            assert entry.creation_date.tzinfo is not None, entry.creation_date
            assert started - CLOCK_SLACK <= entry.creation_date <= now() + CLOCK_SLACK, entry.creation_date
            assert entry.access_id == gateway.admin_access_id
            assert entry.dynamic_secret_type == "aws"
    raw = raw_tmp_creds(api, token, name)
    for tmp_id, value in issued.items():
        assert raw[tmp_id]["state"] == "active", raw[tmp_id]
        assert raw[tmp_id]["user"] == value["user"]
        assert raw[tmp_id]["access_key_id"] == value["access_key_id"]
        assert value["secret_access_key"] not in json.dumps(raw), "the tmp-creds list leaks a secret key"

    # Re-timing: beyond the producer's max TTL (its user-ttl, 60m) is refused and changes nothing.
    _, message = expect_error(
        400,
        api.gateway_update_tmp_users,
        akeyless.GatewayUpdateTmpUsers(name=name, tmp_creds_id=first["id"], new_ttl_min=61, host="", token=token),
    )
    assert "new-ttl-min" in message, message
    expect_error(
        400,
        api.dynamic_secret_tmp_creds_update,
        akeyless.DynamicSecretTmpCredsUpdate(
            name=name, tmp_creds_id=second["id"], new_ttl_min=24 * 60, host="", token=token
        ),
    )
    unchanged = raw_tmp_creds(api, token, name)
    assert unchanged[first["id"]]["expiration"] == raw[first["id"]]["expiration"]
    assert unchanged[second["id"]]["expiration"] == raw[second["id"]]["expiration"]

    assert (
        api.gateway_update_tmp_users(
            akeyless.GatewayUpdateTmpUsers(name=name, tmp_creds_id=first["id"], new_ttl_min=30, host="", token=token)
        )
        is None
    )
    api.dynamic_secret_tmp_creds_update(
        akeyless.DynamicSecretTmpCredsUpdate(name=name, tmp_creds_id=second["id"], new_ttl_min=45, host="", token=token)
    )
    by_id = tmp_creds_by_id(api.gateway_get_tmp_users(akeyless.GatewayGetTmpUsers(name=name, token=token)))
    assert by_id[first["id"]].custom_ttl == 30
    assert by_id[second["id"]].custom_ttl == 45
    retimed = raw_tmp_creds(api, token, name)
    # docs/api.md does not say whether the new TTL counts from issue or from now; either lies
    # inside this window.
    for tmp_id, minutes in ((first["id"], 30), (second["id"], 45)):
        expires = isoparse(retimed[tmp_id]["expiration"])
        low = started + datetime.timedelta(minutes=minutes) - CLOCK_SLACK
        high = now() + datetime.timedelta(minutes=minutes) + CLOCK_SLACK
        assert low <= expires <= high, (tmp_id, retimed[tmp_id]["expiration"], minutes)
    expect_error(
        404,
        api.gateway_update_tmp_users,
        akeyless.GatewayUpdateTmpUsers(name=name, tmp_creds_id=f"no-such-{uid}", new_ttl_min=10, host="", token=token),
    )
    assert first["user"] in users_under(iam, gateway.iam_user_path), "re-timing does not touch the user"

    # Revoking one by id removes exactly its user.
    assert (
        api.gateway_revoke_tmp_users(
            akeyless.GatewayRevokeTmpUsers(name=name, tmp_creds_id=first["id"], token=token)
        )
        is None
    )
    assert_user_gone(iam, first["user"])
    remaining = users_under(iam, gateway.iam_user_path)
    assert first["user"] not in remaining
    assert second["user"] in remaining, "revoking one credential left the other alone"
    assert set(tmp_creds_by_id(api.gateway_get_tmp_users(akeyless.GatewayGetTmpUsers(name=name, token=token)))) == {
        second["id"]
    }

    # Then all of them, on the newer name, including one issued after the first revocation.
    third = api.get_dynamic_secret_value(akeyless.GetDynamicSecretValue(name=name, token=token))
    assert third["user"] in users_under(iam, gateway.iam_user_path)
    api.dynamic_secret_tmp_creds_delete(akeyless.DynamicSecretTmpCredsDelete(name=name, revoke_all=True, token=token))
    for value in (second, third):
        assert_user_gone(iam, value["user"])
    wait_until_no_tmp_creds(api, token, name)
    left = users_under(iam, gateway.iam_user_path)
    assert not {first["user"], second["user"], third["user"]} & set(left), sorted(left)
    assert api.dynamic_secret_tmp_creds_get(akeyless.DynamicSecretTmpCredsGet(name=name, token=token)) == []
    assert api.gateway_get_tmp_users(akeyless.GatewayGetTmpUsers(name=name, token=token)) == []


# ----------------------------------------------------------------------------------------------
# assume_role


def test_assume_role_values_carry_a_session_token_and_are_revoked_by_session(api, token, iam, moto_url, uid):
    target = f"/sdk/{uid}/moto"
    make_moto_target(api, token, target, moto_url)
    role_name = f"sdk-deployer-{uid}"
    role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=TRUST_ANYONE)["Role"]["Arn"]
    name = f"/sdk/{uid}/deployer"
    api.dynamic_secret_create_aws(
        akeyless.DynamicSecretCreateAws(
            name=name,
            target_name=target,
            access_mode="assume_role",
            aws_role_arns=role_arn,
            user_ttl="60m",
            token=token,
        )
    )

    value = api.get_dynamic_secret_value(akeyless.GetDynamicSecretValue(name=name, token=token))
    check_sts_value(value, 60)
    sts = boto3_sts(moto_url, value)
    caller = sts.get_caller_identity()["Arn"]
    assert f":assumed-role/{role_name}/" in caller, f"not a session of {role_name}: {caller}"

    short = api.dynamic_secret_get_value(akeyless.DynamicSecretGetValue(name=name, args=["ttl=15m"], token=token))
    check_sts_value(short, 15)
    assert short["id"] != value["id"]

    listed = tmp_creds_by_id(api.gateway_get_tmp_users(akeyless.GatewayGetTmpUsers(name=name, token=token)))
    assert set(listed) == {value["id"], short["id"]}
    raw = raw_tmp_creds(api, token, name)
    assert raw[value["id"]]["mode"] == "assume_role", raw[value["id"]]

    session = raw[value["id"]]["session_name"]
    assert session.endswith(value["id"]), raw[value["id"]]
    assert raw[value["id"]]["role_arn"] == role_arn, raw[value["id"]]

    # AWS cannot re-time an STS credential; the gateway says so instead of pretending.
    expect_error(
        400,
        api.gateway_update_tmp_users,
        akeyless.GatewayUpdateTmpUsers(name=name, tmp_creds_id=value["id"], new_ttl_min=30, host="", token=token),
    )
    assert sts.get_caller_identity()["Arn"] == caller

    # Revoking one: the role's Mayfly policy denies exactly that session.
    api.gateway_revoke_tmp_users(akeyless.GatewayRevokeTmpUsers(name=name, tmp_creds_id=value["id"], token=token))
    statements = revocation_statements(iam, role_name)
    assert len(statements) == 1, statements
    assert statements[0]["Effect"] == "Deny" and statements[0]["Action"] == "*", statements
    assert statements[0]["Condition"]["StringLike"]["aws:userid"] == f"*:{session}", statements
    still = tmp_creds_by_id(api.dynamic_secret_tmp_creds_get(akeyless.DynamicSecretTmpCredsGet(name=name, token=token)))
    assert set(still) == {short["id"]}

    # revoke-all, as the SDK sends it: an issue-time deny for this dynamic secret's sessions.
    api.dynamic_secret_tmp_creds_delete(akeyless.DynamicSecretTmpCredsDelete(name=name, revoke_all=True, token=token))
    statements = revocation_statements(iam, role_name)
    assert len(statements) == 1, statements
    condition = statements[0]["Condition"]
    assert condition["DateLessThan"]["aws:TokenIssueTime"].endswith("Z"), statements
    assert condition["StringLike"]["aws:userid"].startswith("*:*@p"), statements
    assert api.dynamic_secret_tmp_creds_get(akeyless.DynamicSecretTmpCredsGet(name=name, token=token)) == []


def revocation_statements(iam, role_name):
    """The statements of the role's inline policy that Mayfly keeps its session denials in."""
    doc = iam.get_role_policy(RoleName=role_name, PolicyName="mayfly-revoked-sessions")["PolicyDocument"]
    if isinstance(doc, str):
        doc = json.loads(urllib.parse.unquote(doc))
    return doc["Statement"]


def boto3_sts(moto_url, value):
    """boto3's STS client on moto, signing with an issued STS credential."""
    return boto3.client(
        "sts",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=value["access_key_id"],
        aws_secret_access_key=value["secret_access_key"],
        aws_session_token=value["security_token"],
    )


# ----------------------------------------------------------------------------------------------
# Unknown producers


def test_an_unknown_producer_is_404_for_values_and_tmp_creds(api, token, uid):
    missing = f"/sdk/{uid}/no-such-producer"
    calls = [
        (api.get_dynamic_secret_value, akeyless.GetDynamicSecretValue(name=missing, token=token)),
        (api.dynamic_secret_get_value, akeyless.DynamicSecretGetValue(name=missing, token=token)),
        (api.gateway_get_tmp_users, akeyless.GatewayGetTmpUsers(name=missing, token=token)),
        (api.dynamic_secret_tmp_creds_get, akeyless.DynamicSecretTmpCredsGet(name=missing, token=token)),
        (
            api.gateway_revoke_tmp_users,
            akeyless.GatewayRevokeTmpUsers(name=missing, tmp_creds_id="some-id", token=token),
        ),
        (
            api.dynamic_secret_tmp_creds_delete,
            akeyless.DynamicSecretTmpCredsDelete(name=missing, revoke_all=True, token=token),
        ),
        (
            api.gateway_update_tmp_users,
            akeyless.GatewayUpdateTmpUsers(name=missing, tmp_creds_id="some-id", new_ttl_min=10, host="", token=token),
        ),
        (
            api.dynamic_secret_tmp_creds_update,
            akeyless.DynamicSecretTmpCredsUpdate(
                name=missing, tmp_creds_id="some-id", new_ttl_min=10, host="", token=token
            ),
        ),
    ]
    for call, model in calls:
        expect_error(404, call, model)
