"""The gateway driven ONLY through the official Akeyless Python SDK (akeyless==5.0.40).

What is checked comes from /work/shared/api-contract.md (the SDK's own models are the judge):
field names and JSON types of the responses, statuses of errors, and that secrets never leak.
Every test runs on SQLite and on PostgreSQL (see conftest.py). Tests share one gateway per
backend, so every name carries a per-test unique suffix.

Remember the SDK's habits: it sends every attribute that is not None, defaults included
(`region: "us-east-2"`, `json: false`, `secure-access-web: true`, ...), and parses `bool`,
`int` and `datetime` fields strictly, so a wrong JSON type shows up here as a wrong Python type
or as ApiException(status=0).
"""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess

import akeyless
import pytest
from dateutil.parser import isoparse
from akeyless.rest import ApiException

POLICY_READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
POLICY_S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
ROLE_DEPLOY = "arn:aws:iam::123456789012:role/deploy"
ROLE_AUDIT = "arn:aws:iam::123456789012:role/audit"
ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"


# ----------------------------------------------------------------------------------------------
# Helpers


def error_message(exc: ApiException) -> str:
    """The `error` string of an error response (the contract's Go JSONError shape)."""
    body = exc.body.decode() if isinstance(exc.body, bytes) else exc.body
    try:
        parsed = json.loads(body)
    except (TypeError, ValueError):
        pytest.fail(f"error body is not JSON (status {exc.status}): {body!r}")
    assert isinstance(parsed, dict), parsed
    assert isinstance(parsed.get("error"), str) and parsed["error"], parsed
    return parsed["error"]


def expect_error(status, call, *args, **kwargs) -> tuple[int, str]:
    """Runs an SDK call that must fail with `status` (an int, or a range for "any 4xx")."""
    with pytest.raises(ApiException) as info:
        call(*args, **kwargs)
    exc = info.value
    if isinstance(status, range):
        assert exc.status in status, f"expected {status}, got {exc.status}: {exc.body}"
    else:
        assert exc.status == status, f"expected {status}, got {exc.status}: {exc.body}"
    return exc.status, error_message(exc)


def raw_json(call, model) -> tuple[bytes, object]:
    """The raw response bytes and their JSON, for checks the SDK's models would hide."""
    response = call(model, _preload_content=False)
    data = response.data
    return data, json.loads(data)


def target_secret(uid: str) -> str:
    return f"tgtSECRET/{uid}+wJalrXUtnFEMI/K7MDENG/bPxRfiCY"


def make_target(api, token, name, secret, **extra):
    return api.target_create_aws(
        akeyless.TargetCreateAws(
            name=name, access_key_id=ACCESS_KEY_ID, access_key=secret, token=token, **extra
        )
    )


def assert_datetime(value, what):
    assert isinstance(value, datetime.datetime), f"{what}: {value!r} is not a datetime"


def assert_target_assoc(details, target_name):
    assoc = details.item_targets_assoc
    assert isinstance(assoc, list) and len(assoc) == 1, assoc
    assert assoc[0].target_name == target_name
    assert isinstance(assoc[0].target_id, int)


def producer_names(reply) -> list[str]:
    assert isinstance(reply, akeyless.GetProducersListReplyObj)
    assert isinstance(reply.producers, list)
    return [p.name for p in reply.producers]


def find_producer(reply, name):
    matches = [p for p in reply.producers if p.name == name]
    assert len(matches) == 1, f"{name} in {producer_names(reply)}"
    return matches[0]


def dynamic_secret_items(api, token, path):
    out = api.list_items(akeyless.ListItems(path=path, type=["dynamic-secret"], token=token))
    assert isinstance(out, akeyless.ListItemsInPathOutput)
    return out.items or []


# ----------------------------------------------------------------------------------------------
# Auth


def test_auth_returns_a_token(gateway, api):
    out = api.auth(akeyless.Auth(access_id=gateway.admin_access_id, access_key=gateway.admin_access_key))
    assert isinstance(out, akeyless.AuthOutput)
    assert isinstance(out.token, str) and out.token.startswith("t-"), out.token
    assert isinstance(out.expiration, str) and out.expiration
    expires = isoparse(out.expiration)
    assert expires > datetime.datetime.now(datetime.timezone.utc)
    assert out.creds is not None
    assert out.creds.access_id == gateway.admin_access_id
    assert isinstance(out.creds.token, str) and out.creds.token.startswith("t-")
    assert isinstance(out.creds.expiry, int)
    assert out.creds.expiry > datetime.datetime.now().timestamp()


def test_auth_with_a_wrong_key_is_401(gateway, api):
    expect_error(401, api.auth, akeyless.Auth(access_id=gateway.admin_access_id, access_key="not-the-key"))
    expect_error(401, api.auth, akeyless.Auth(access_id="p-000000000000", access_key=gateway.admin_access_key))


def test_requests_without_a_valid_token_are_401(api):
    expect_error(401, api.list_targets, akeyless.ListTargets())
    expect_error(401, api.list_targets, akeyless.ListTargets(token="t-" + "0" * 40))
    expect_error(401, api.gateway_list_producers, akeyless.GatewayListProducers(token="garbage"))


def test_paths_are_also_served_under_api_v2(gateway, token, sdk_client):
    api_v2 = sdk_client(gateway.base_url + "/api/v2")
    out = api_v2.auth(akeyless.Auth(access_id=gateway.admin_access_id, access_key=gateway.admin_access_key))
    assert out.token.startswith("t-")
    targets = api_v2.list_targets(akeyless.ListTargets(token=token))
    assert isinstance(targets.targets or [], list)


# ----------------------------------------------------------------------------------------------
# Targets


def test_aws_target_lifecycle_on_the_old_endpoints(api, token, uid):
    name = f"/sdk/{uid}/legacy-target"
    secret = target_secret(uid)
    created = api.create_aws_target(
        akeyless.CreateAWSTarget(
            name=name,
            access_key_id=ACCESS_KEY_ID,
            access_key=secret,
            region="eu-west-1",
            description="legacy target",
            token=token,
        )
    )
    assert isinstance(created, akeyless.CreateAWSTargetOutput)
    assert isinstance(created.target_id, int) and created.target_id > 0

    target = api.get_target(akeyless.GetTarget(name=name, token=token))
    assert isinstance(target, akeyless.Target)
    assert target.target_name == name
    assert target.target_type == "aws"
    assert target.target_id == created.target_id
    assert target.comment == "legacy target"
    assert target.delete_protection is False
    assert_datetime(target.creation_date, "creation_date")
    assert_datetime(target.modification_date, "modification_date")

    # Names are normalized with a leading slash; the slash-less form finds the same target.
    same = api.get_target(akeyless.GetTarget(name=name.lstrip("/"), token=token))
    assert same.target_name == name and same.target_id == created.target_id

    details = api.get_target_details(akeyless.GetTargetDetails(name=name, token=token))
    assert isinstance(details, akeyless.GetTargetDetailsOutput)
    assert details.target.target_name == name
    aws = details.value.aws_target_details
    assert aws.aws_access_key_id == ACCESS_KEY_ID
    assert aws.aws_secret_access_key == secret
    assert aws.aws_region == "eu-west-1"

    # The secret appears only in get-target-details.
    raw, parsed = raw_json(api.get_target, akeyless.GetTarget(name=name, token=token))
    assert secret.encode() not in raw
    assert parsed["target_name"] == name
    raw, parsed = raw_json(api.list_targets, akeyless.ListTargets(type=["aws"], token=token))
    assert secret.encode() not in raw, "list-targets leaks the target secret"
    assert name in [t["target_name"] for t in parsed["targets"]]

    listed = api.list_targets(akeyless.ListTargets(filter=uid, token=token))
    assert isinstance(listed, akeyless.ListTargetsOutput)
    assert [t.target_name for t in listed.targets] == [name]

    renamed = f"/sdk/{uid}/legacy-renamed"
    new_secret = target_secret(uid + "-rotated")
    api.update_aws_target(
        akeyless.UpdateAWSTarget(
            name=name,
            new_name=renamed,
            access_key_id=ACCESS_KEY_ID,
            access_key=new_secret,
            region="eu-west-1",
            token=token,
        )
    )
    expect_error(404, api.get_target, akeyless.GetTarget(name=name, token=token))
    moved = api.get_target(akeyless.GetTarget(name=renamed, token=token))
    assert moved.target_id == created.target_id
    details = api.get_target_details(akeyless.GetTargetDetails(name=renamed, token=token))
    assert details.value.aws_target_details.aws_secret_access_key == new_secret

    api.delete_target(akeyless.DeleteTarget(name=renamed, token=token))
    expect_error(404, api.get_target, akeyless.GetTarget(name=renamed, token=token))
    listed = api.list_targets(akeyless.ListTargets(filter=uid, token=token))
    assert not listed.targets


def test_aws_target_lifecycle_on_the_new_endpoints_with_delete_protection(api, token, uid):
    name = f"/sdk/{uid}/protected-target"
    secret = target_secret(uid)
    created = make_target(api, token, name, secret, delete_protection="true", region="us-west-2")
    assert isinstance(created, akeyless.TargetCreateOutput)
    assert isinstance(created.target_id, int)

    target = api.target_get(akeyless.TargetGet(name=name, token=token))
    assert target.target_name == name
    assert target.target_type == "aws"
    assert target.delete_protection is True

    details = api.target_get_details(akeyless.TargetGetDetails(name=name, token=token))
    assert details.value.aws_target_details.aws_secret_access_key == secret
    assert details.value.aws_target_details.aws_region == "us-west-2"

    raw, parsed = raw_json(api.target_list, akeyless.TargetList(token=token))
    assert secret.encode() not in raw, "target-list leaks the target secret"
    assert name in [t["target_name"] for t in parsed["targets"]]

    expect_error(range(400, 500), api.target_delete, akeyless.TargetDelete(name=name, token=token))
    assert api.target_get(akeyless.TargetGet(name=name, token=token)).target_id == created.target_id

    updated = api.target_update_aws(
        akeyless.TargetUpdateAws(
            name=name,
            access_key_id=ACCESS_KEY_ID,
            access_key=secret,
            region="us-west-2",
            delete_protection="false",
            token=token,
        )
    )
    assert isinstance(updated, akeyless.TargetUpdateOutput)
    assert updated.target_id == created.target_id
    assert api.target_get(akeyless.TargetGet(name=name, token=token)).delete_protection is False

    api.target_delete(akeyless.TargetDelete(name=name, token=token))
    expect_error(404, api.target_get, akeyless.TargetGet(name=name, token=token))


def test_creating_an_existing_target_is_409(api, token, uid):
    name = f"/sdk/{uid}/dup-target"
    make_target(api, token, name, target_secret(uid))
    expect_error(409, make_target, api, token, name, target_secret(uid))
    expect_error(
        409,
        api.create_aws_target,
        akeyless.CreateAWSTarget(name=name, access_key_id=ACCESS_KEY_ID, access_key="x", token=token),
    )


# ----------------------------------------------------------------------------------------------
# Producers


def test_iam_user_producer_lifecycle_on_the_gateway_endpoints(api, token, uid):
    folder = f"/sdk/{uid}"
    target = f"{folder}/iam-target"
    secret = target_secret(uid)
    make_target(api, token, target, secret)
    name = f"{folder}/iam-producer"

    created = api.gateway_create_producer_aws(
        akeyless.GatewayCreateProducerAws(
            name=name,
            target_name=target,
            access_mode="iam_user",
            aws_user_policies=f"{POLICY_READ_ONLY},{POLICY_S3_READ}",
            aws_user_groups="developers,auditors",
            user_ttl="30m",
            tags=["team-a", "sdk"],
            token=token,
        )
    )
    assert isinstance(created, akeyless.GatewayCreateProducerAwsOutput)

    def check(details):
        assert isinstance(details, akeyless.DSProducerDetails)
        assert details.dynamic_secret_name == name
        assert isinstance(details.dynamic_secret_id, int)
        assert details.dynamic_secret_type == "aws"
        assert details.aws_access_mode == "iam_user"
        assert details.user_ttl == "30m"
        assert details.aws_user_policies == f"{POLICY_READ_ONLY},{POLICY_S3_READ}"
        assert details.aws_user_groups == "developers,auditors"
        assert sorted(details.tags) == ["sdk", "team-a"]
        assert details.delete_protection is False
        assert details.aws_user_programmatic_access is True
        assert details.aws_user_console_access is False
        assert_target_assoc(details, target)

    check(created.producer_details)
    got = api.gateway_get_producer(akeyless.GatewayGetProducer(name=name, token=token))
    check(got)
    assert got.dynamic_secret_id == created.producer_details.dynamic_secret_id

    raw, _ = raw_json(api.gateway_get_producer, akeyless.GatewayGetProducer(name=name, token=token))
    assert secret.encode() not in raw, "gateway-get-producer leaks the target's secret"

    listed = api.gateway_list_producers(akeyless.GatewayListProducers(token=token))
    entry = find_producer(listed, name)
    assert isinstance(entry.id, int)
    assert entry.type == "aws"
    assert isinstance(entry.active, bool)
    raw, _ = raw_json(api.gateway_list_producers, akeyless.GatewayListProducers(token=token))
    assert secret.encode() not in raw

    items = dynamic_secret_items(api, token, folder)
    assert [i.item_name for i in items] == [name]
    assert items[0].item_type == "DYNAMIC_SECRET"
    assert items[0].item_sub_type == "aws"
    assert isinstance(items[0].item_id, int)

    used_by = api.target_get(akeyless.TargetGet(name=target, token=token)).target_items_assoc
    assert [a.item_name for a in used_by] == [name]

    renamed = f"{folder}/iam-producer-renamed"
    updated = api.gateway_update_producer_aws(
        akeyless.GatewayUpdateProducerAws(
            name=name,
            new_name=renamed,
            target_name=target,
            access_mode="iam_user",
            aws_user_policies=POLICY_READ_ONLY,
            aws_user_groups="developers",
            aws_user_console_access=True,
            user_ttl="2h",
            tags=["team-b"],
            token=token,
        )
    )
    assert isinstance(updated, akeyless.GatewayUpdateProducerAwsOutput)
    details = updated.producer_details
    assert details.dynamic_secret_name == renamed
    assert details.user_ttl == "2h"
    assert details.aws_user_policies == POLICY_READ_ONLY
    assert details.aws_user_groups == "developers"
    assert details.aws_user_console_access is True
    assert details.tags == ["team-b"]
    expect_error(404, api.gateway_get_producer, akeyless.GatewayGetProducer(name=name, token=token))
    got = api.gateway_get_producer(akeyless.GatewayGetProducer(name=renamed, token=token))
    assert got.user_ttl == "2h"
    assert got.dynamic_secret_id == created.producer_details.dynamic_secret_id
    assert_target_assoc(got, target)

    deleted = api.gateway_delete_producer(akeyless.GatewayDeleteProducer(name=renamed, token=token))
    assert isinstance(deleted, akeyless.GatewayDeleteProducerOutput)
    assert deleted.producer_name == renamed
    expect_error(404, api.gateway_get_producer, akeyless.GatewayGetProducer(name=renamed, token=token))
    assert renamed not in producer_names(api.gateway_list_producers(akeyless.GatewayListProducers(token=token)))
    assert dynamic_secret_items(api, token, folder) == []

    # With no producer left, the target is free to go without force.
    api.target_delete(akeyless.TargetDelete(name=target, token=token))


def test_assume_role_producer_lifecycle_on_the_dynamic_secret_endpoints(api, token, uid):
    folder = f"/sdk/{uid}"
    target = f"{folder}/role-target"
    secret = target_secret(uid)
    make_target(api, token, target, secret)
    name = f"{folder}/role-producer"

    created = api.dynamic_secret_create_aws(
        akeyless.DynamicSecretCreateAws(
            name=name,
            target_name=target,
            access_mode="assume_role",
            aws_role_arns=f"{ROLE_DEPLOY},{ROLE_AUDIT}",
            user_ttl="1h",
            tags=["deploy"],
            description="CI deploy role",
            token=token,
        )
    )
    assert isinstance(created, akeyless.DynamicSecretCreateOutput)

    def check(details):
        assert isinstance(details, akeyless.DSProducerDetails)
        assert details.dynamic_secret_name == name
        assert details.dynamic_secret_type == "aws"
        assert details.aws_access_mode == "assume_role"
        assert details.aws_role_arns == f"{ROLE_DEPLOY},{ROLE_AUDIT}"
        assert details.user_ttl == "1h"
        assert details.tags == ["deploy"]
        assert details.delete_protection is False
        assert_target_assoc(details, target)

    check(created.dynamic_secret_details)
    got = api.dynamic_secret_get(akeyless.DynamicSecretGet(name=name, token=token))
    check(got)
    raw, _ = raw_json(api.dynamic_secret_get, akeyless.DynamicSecretGet(name=name, token=token))
    assert secret.encode() not in raw, "dynamic-secret-get leaks the target's secret"

    listed = api.dynamic_secret_list(akeyless.DynamicSecretList(token=token))
    entry = find_producer(listed, name)
    assert entry.type == "aws"
    assert isinstance(entry.id, int)

    items = dynamic_secret_items(api, token, folder)
    assert [i.item_name for i in items] == [name]
    assert items[0].item_type == "DYNAMIC_SECRET"

    renamed = f"{folder}/role-producer-renamed"
    updated = api.dynamic_secret_update_aws(
        akeyless.DynamicSecretUpdateAws(
            name=name,
            new_name=renamed,
            target_name=target,
            access_mode="assume_role",
            aws_role_arns=ROLE_DEPLOY,
            user_ttl="45m",
            tags=["deploy", "prod"],
            token=token,
        )
    )
    assert isinstance(updated, akeyless.DynamicSecretUpdateOutput)
    details = updated.dynamic_secret_details
    assert details.dynamic_secret_name == renamed
    assert details.aws_role_arns == ROLE_DEPLOY
    assert details.user_ttl == "45m"
    assert sorted(details.tags) == ["deploy", "prod"]
    expect_error(404, api.dynamic_secret_get, akeyless.DynamicSecretGet(name=name, token=token))
    assert api.dynamic_secret_get(akeyless.DynamicSecretGet(name=renamed, token=token)).user_ttl == "45m"

    deleted = api.dynamic_secret_delete(akeyless.DynamicSecretDelete(name=renamed, token=token))
    assert isinstance(deleted, akeyless.DynamicSecretDeleteOutput)
    assert deleted.dynamic_secret_name == renamed
    expect_error(404, api.dynamic_secret_get, akeyless.DynamicSecretGet(name=renamed, token=token))
    assert renamed not in producer_names(api.dynamic_secret_list(akeyless.DynamicSecretList(token=token)))

    api.target_delete(akeyless.TargetDelete(name=target, token=token))


def test_assumed_role_spelling_is_accepted_and_echoed(api, token, uid):
    target = f"/sdk/{uid}/spelling-target"
    make_target(api, token, target, target_secret(uid))
    name = f"/sdk/{uid}/spelling-producer"
    created = api.dynamic_secret_create_aws(
        akeyless.DynamicSecretCreateAws(
            name=name, target_name=target, access_mode="assumed_role", aws_role_arns=ROLE_DEPLOY, token=token
        )
    )
    assert created.dynamic_secret_details.aws_access_mode == "assumed_role"
    got = api.dynamic_secret_get(akeyless.DynamicSecretGet(name=name, token=token))
    assert got.aws_access_mode == "assumed_role"
    # The SDK's default user-ttl is "60m" and it is always sent.
    assert got.user_ttl == "60m"


def test_delete_protection_blocks_producer_deletion(api, token, uid):
    target = f"/sdk/{uid}/dp-target"
    make_target(api, token, target, target_secret(uid))
    name = f"/sdk/{uid}/dp-producer"
    created = api.gateway_create_producer_aws(
        akeyless.GatewayCreateProducerAws(
            name=name,
            target_name=target,
            access_mode="iam_user",
            aws_user_policies=POLICY_READ_ONLY,
            delete_protection="true",
            token=token,
        )
    )
    assert created.producer_details.delete_protection is True
    assert api.gateway_get_producer(akeyless.GatewayGetProducer(name=name, token=token)).delete_protection is True

    expect_error(range(400, 500), api.gateway_delete_producer, akeyless.GatewayDeleteProducer(name=name, token=token))
    expect_error(range(400, 500), api.dynamic_secret_delete, akeyless.DynamicSecretDelete(name=name, token=token))
    assert api.gateway_get_producer(akeyless.GatewayGetProducer(name=name, token=token)).dynamic_secret_name == name

    updated = api.gateway_update_producer_aws(
        akeyless.GatewayUpdateProducerAws(
            name=name,
            target_name=target,
            access_mode="iam_user",
            aws_user_policies=POLICY_READ_ONLY,
            delete_protection="false",
            token=token,
        )
    )
    assert updated.producer_details.delete_protection is False
    api.gateway_delete_producer(akeyless.GatewayDeleteProducer(name=name, token=token))
    expect_error(404, api.gateway_get_producer, akeyless.GatewayGetProducer(name=name, token=token))


def test_deleting_a_target_in_use_is_409_unless_forced(api, token, uid):
    target = f"/sdk/{uid}/busy-target"
    make_target(api, token, target, target_secret(uid))
    name = f"/sdk/{uid}/busy-producer"
    api.gateway_create_producer_aws(
        akeyless.GatewayCreateProducerAws(
            name=name, target_name=target, access_mode="iam_user", aws_user_policies=POLICY_READ_ONLY, token=token
        )
    )

    _, message = expect_error(409, api.delete_target, akeyless.DeleteTarget(name=target, token=token))
    assert message
    expect_error(409, api.target_delete, akeyless.TargetDelete(name=target, token=token))
    assert api.get_target(akeyless.GetTarget(name=target, token=token)).target_name == target
    assert api.gateway_get_producer(akeyless.GatewayGetProducer(name=name, token=token)).dynamic_secret_name == name

    api.delete_target(akeyless.DeleteTarget(name=target, force_deletion=True, token=token))
    expect_error(404, api.get_target, akeyless.GetTarget(name=target, token=token))


def test_creating_an_existing_producer_is_409(api, token, uid):
    target = f"/sdk/{uid}/dup-p-target"
    make_target(api, token, target, target_secret(uid))
    model = akeyless.GatewayCreateProducerAws(
        name=f"/sdk/{uid}/dup-producer",
        target_name=target,
        access_mode="iam_user",
        aws_user_policies=POLICY_READ_ONLY,
        token=token,
    )
    api.gateway_create_producer_aws(model)
    expect_error(409, api.gateway_create_producer_aws, model)


def test_unknown_items_are_404(api, token, uid):
    missing = f"/sdk/{uid}/does-not-exist"
    # A valid update of a producer that does not exist must be 404, not a validation error.
    target = f"/sdk/{uid}/lonely-target"
    make_target(api, token, target, target_secret(uid))
    calls = [
        (api.gateway_get_producer, akeyless.GatewayGetProducer(name=missing, token=token)),
        (api.dynamic_secret_get, akeyless.DynamicSecretGet(name=missing, token=token)),
        (api.gateway_delete_producer, akeyless.GatewayDeleteProducer(name=missing, token=token)),
        (api.dynamic_secret_delete, akeyless.DynamicSecretDelete(name=missing, token=token)),
        (
            api.gateway_update_producer_aws,
            akeyless.GatewayUpdateProducerAws(
                name=missing,
                target_name=target,
                access_mode="iam_user",
                aws_user_policies=POLICY_READ_ONLY,
                token=token,
            ),
        ),
        (api.get_target, akeyless.GetTarget(name=missing, token=token)),
        (api.target_get, akeyless.TargetGet(name=missing, token=token)),
        (api.get_target_details, akeyless.GetTargetDetails(name=missing, token=token)),
        (api.target_get_details, akeyless.TargetGetDetails(name=missing, token=token)),
        (api.delete_target, akeyless.DeleteTarget(name=missing, token=token)),
        (api.target_delete, akeyless.TargetDelete(name=missing, token=token)),
    ]
    for call, model in calls:
        expect_error(404, call, model)


def test_a_producer_on_an_unknown_target_is_refused_and_not_created(api, token, uid):
    name = f"/sdk/{uid}/orphan"
    status, _ = expect_error(
        range(400, 500),
        api.gateway_create_producer_aws,
        akeyless.GatewayCreateProducerAws(
            name=name,
            target_name=f"/sdk/{uid}/no-such-target",
            access_mode="iam_user",
            aws_user_policies=POLICY_READ_ONLY,
            token=token,
        ),
    )
    assert status in (400, 404), status
    expect_error(404, api.gateway_get_producer, akeyless.GatewayGetProducer(name=name, token=token))


# ----------------------------------------------------------------------------------------------
# Validation


def test_a_bare_number_ttl_is_400_naming_user_ttl_and_creates_nothing(api, token, uid):
    target = f"/sdk/{uid}/ttl-target"
    make_target(api, token, target, target_secret(uid))
    name = f"/sdk/{uid}/ttl-producer"
    _, message = expect_error(
        400,
        api.gateway_create_producer_aws,
        akeyless.GatewayCreateProducerAws(
            name=name,
            target_name=target,
            access_mode="iam_user",
            aws_user_policies=POLICY_READ_ONLY,
            user_ttl="60",
            token=token,
        ),
    )
    assert "user-ttl" in message, message
    expect_error(404, api.gateway_get_producer, akeyless.GatewayGetProducer(name=name, token=token))
    assert dynamic_secret_items(api, token, f"/sdk/{uid}") == []
    # The refused producer did not get attached to the target either.
    assert not api.target_get(akeyless.TargetGet(name=target, token=token)).target_items_assoc


def test_every_problem_is_reported_at_once(api, token, uid):
    target = f"/sdk/{uid}/multi-target"
    make_target(api, token, target, target_secret(uid))
    name = f"/sdk/{uid}/multi-producer"
    _, message = expect_error(
        400,
        api.dynamic_secret_create_aws,
        akeyless.DynamicSecretCreateAws(
            name=name,
            target_name=target,
            access_mode="sideways",
            aws_user_policies="not-an-arn",
            user_ttl="60",
            token=token,
        ),
    )
    for field in ("access-mode", "aws-user-policies", "user-ttl"):
        assert field in message, f"{field} missing from: {message}"
    expect_error(404, api.dynamic_secret_get, akeyless.DynamicSecretGet(name=name, token=token))


def test_an_update_with_bad_input_leaves_the_producer_as_it_was(api, token, uid):
    target = f"/sdk/{uid}/keep-target"
    make_target(api, token, target, target_secret(uid))
    name = f"/sdk/{uid}/keep-producer"
    api.gateway_create_producer_aws(
        akeyless.GatewayCreateProducerAws(
            name=name,
            target_name=target,
            access_mode="iam_user",
            aws_user_policies=POLICY_READ_ONLY,
            user_ttl="30m",
            token=token,
        )
    )
    _, message = expect_error(
        400,
        api.gateway_update_producer_aws,
        akeyless.GatewayUpdateProducerAws(
            name=name,
            new_name=f"/sdk/{uid}/keep-renamed",
            target_name=target,
            access_mode="iam_user",
            aws_user_policies=POLICY_S3_READ,
            user_ttl="90",
            token=token,
        ),
    )
    assert "user-ttl" in message, message
    got = api.gateway_get_producer(akeyless.GatewayGetProducer(name=name, token=token))
    assert got.user_ttl == "30m"
    assert got.aws_user_policies == POLICY_READ_ONLY
    expect_error(404, api.gateway_get_producer, akeyless.GatewayGetProducer(name=f"/sdk/{uid}/keep-renamed", token=token))


# ----------------------------------------------------------------------------------------------
# Secrets at rest and in logs


def known_secrets(gateway, api, token, uid) -> dict[str, str]:
    """Creates a target and an inline-credential producer with known secrets, reads the target
    details back (so the secret travels through the response path), and returns every secret
    that must never be stored or logged in plain text."""
    target_key = target_secret(uid)
    target = f"/sdk/{uid}/leak-target"
    make_target(api, token, target, target_key)
    api.target_get_details(akeyless.TargetGetDetails(name=target, token=token))

    inline_key = f"inlineSECRET/{uid}/Zq8vLm3pRt6yWx9"
    producer = f"/sdk/{uid}/leak-inline-producer"
    api.gateway_create_producer_aws(
        akeyless.GatewayCreateProducerAws(
            name=producer,
            access_mode="iam_user",
            aws_access_key_id=ACCESS_KEY_ID,
            aws_access_secret_key=inline_key,
            region="eu-central-1",
            aws_user_policies=POLICY_READ_ONLY,
            token=token,
        )
    )
    raw, _ = raw_json(api.gateway_get_producer, akeyless.GatewayGetProducer(name=producer, token=token))
    assert inline_key.encode() not in raw, "gateway-get-producer returns the inline secret key"
    raw, _ = raw_json(api.gateway_list_producers, akeyless.GatewayListProducers(token=token))
    assert inline_key.encode() not in raw

    fresh_token = api.auth(
        akeyless.Auth(access_id=gateway.admin_access_id, access_key=gateway.admin_access_key)
    ).token
    api.list_targets(akeyless.ListTargets(token=fresh_token))
    return {
        "target secret key": target_key,
        "inline producer secret key": inline_key,
        "admin access key": gateway.admin_access_key,
        "token": fresh_token,
    }


def test_secrets_never_appear_in_the_gateway_log(gateway, api, token, uid):
    secrets = known_secrets(gateway, api, token, uid)
    logs = gateway.logs()
    own_lines = [line for line in logs.splitlines() if line.strip() and not line.startswith("=== sdk conftest:")]
    assert own_lines, "the gateway logged nothing at all; the check would be vacuous"
    for what, value in secrets.items():
        assert value not in logs, f"the {what} appears in the gateway log"


def test_secrets_are_not_stored_in_plain_text(gateway, api, token, uid):
    secrets = known_secrets(gateway, api, token, uid)
    if gateway.sqlite_path is not None:
        files = sorted(gateway.data_dir.glob("mayfly.db*"))
        assert gateway.sqlite_path in files, f"no SQLite file in {gateway.data_dir}"
        contents = b"".join(path.read_bytes() for path in files)
        # The check can only be trusted if the data is there at all.
        assert f"/sdk/{uid}/leak-target".encode() in contents, "target row not found in the SQLite files"
    else:
        if shutil.which("pg_dump") is None:
            pytest.skip("pg_dump is not installed; cannot read the PostgreSQL database")
        dump = subprocess.run(
            ["pg_dump", "-w", "--data-only", "-d", gateway.database.url],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        assert dump.returncode == 0, dump.stderr.decode(errors="replace")
        contents = dump.stdout
        assert f"/sdk/{uid}/leak-target".encode() in contents, "target row not found in the dump"
    for what, value in secrets.items():
        assert value.encode() not in contents, f"the {what} is stored in plain text"
