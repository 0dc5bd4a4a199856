"""The Vault-compatible API (/v1/, issue 17) driven ONLY through hvac, the Python Vault client.

hvac talks to the gateway exactly as it talks to Vault: AppRole login, the AWS secrets engine
at its default mount `aws` (config/root, roles of every credential type, creds and sts), leases
(read, list, renew, revoke, revoke-prefix), health and mounts. boto3 checks in moto what the
gateway really did (the IAM user exists while its lease lives), and the official Akeyless SDK
sees the same credentials as tmp creds of the same producer: one implementation underneath,
two wire formats on top. A key without rights gets hvac's Forbidden, from Vault's error shape.

moto here is conftest's (without IAM auth enforcement); the Rust tests in
gateway/tests/api/vault.rs drive the same flow against a moto that enforces auth.
"""

from __future__ import annotations

import json
import time

import akeyless
import hvac
import hvac.exceptions
import pytest
from botocore.exceptions import ClientError

MOTO_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
MOTO_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
S3_LIST = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}
)
TRUST_ANYONE = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
)


def vault_client(gateway, token=None) -> hvac.Client:
    return hvac.Client(url=gateway.base_url, verify=str(gateway.ca_cert_path), token=token)


@pytest.fixture
def client(gateway, moto_url) -> hvac.Client:
    """An hvac client logged in with the admin key through AppRole, the mount configured."""
    c = vault_client(gateway)
    login = c.auth.approle.login(role_id=gateway.admin_access_id, secret_id=gateway.admin_access_key)
    assert login["auth"]["client_token"].startswith("t-"), login
    assert login["auth"]["renewable"] is False
    assert c.is_authenticated()
    c.secrets.aws.configure_root_iam_credentials(
        access_key=MOTO_KEY_ID,
        secret_key=MOTO_SECRET,
        region="us-east-1",
        iam_endpoint=moto_url,
        sts_endpoint=moto_url,
    )
    return c


def user_exists(iam, name) -> bool:
    try:
        iam.get_user(UserName=name)
        return True
    except ClientError as e:
        assert e.response["Error"]["Code"] == "NoSuchEntity", e.response
        return False


def akeyless_tmp_creds(api, token, name) -> set[str]:
    listed = api.dynamic_secret_tmp_creds_get(akeyless.DynamicSecretTmpCredsGet(name=name, token=token))
    return {entry.id for entry in listed}


def test_health_and_mounts(gateway, client):
    assert vault_client(gateway).sys.read_health_status(method="HEAD").status_code == 200
    health = vault_client(gateway).sys.read_health_status(method="GET")
    assert health["initialized"] is True and health["sealed"] is False and health["standby"] is False
    mounts = client.sys.list_mounted_secrets_engines()
    assert mounts["data"]["aws/"]["type"] == "aws"
    root = client.read("aws/config/root")
    assert root["data"]["region"] == "us-east-1"
    assert MOTO_SECRET not in json.dumps(root), "config/root must never show the secret"


def test_iam_user_role_creds_lease_renew_revoke_and_the_akeyless_view(gateway, client, api, token, iam, uid):
    role = f"vault-{uid}/s3-reader"
    producer = f"/{role}"
    client.secrets.aws.create_or_update_role(
        name=role, credential_type="iam_user", policy_arns=[S3_READ], iam_tags=["team=a"]
    )
    read = client.secrets.aws.read_role(name=role)["data"]
    assert read["credential_type"] == "iam_user"
    assert read["policy_arns"] == [S3_READ]
    assert read["iam_tags"] == {"team": "a"}
    assert isinstance(read["default_sts_ttl"], int)
    assert role in client.secrets.aws.list_roles()["data"]["keys"]

    creds = client.secrets.aws.generate_credentials(name=role)
    lease_id = creds["lease_id"]
    tmp_id = lease_id.rsplit("/", 1)[1]
    assert lease_id == f"aws/creds/{role}/{tmp_id}"
    assert creds["renewable"] is True and creds["lease_duration"] > 3500
    assert creds["data"]["security_token"] is None
    user = creds["data"]["username"]
    assert user_exists(iam, user)
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [creds["data"]["access_key"]]
    attached = iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [S3_READ]
    # The same credential, seen through the Akeyless API.
    assert tmp_id in akeyless_tmp_creds(api, token, producer)

    lease = client.sys.read_lease(lease_id=lease_id)["data"]
    assert lease["id"] == lease_id and lease["renewable"] is True and lease["ttl"] > 0
    assert client.sys.list_leases(prefix=f"aws/creds/{role}/")["data"]["keys"] == [tmp_id]
    renewed = client.sys.renew_lease(lease_id=lease_id, increment=600)
    assert 590 <= renewed["lease_duration"] <= 600
    client.sys.revoke_lease(lease_id=lease_id)
    assert not user_exists(iam, user)
    assert tmp_id not in akeyless_tmp_creds(api, token, producer)

    # revoke-prefix, by path segment, asynchronous as the Akeyless bulk revocations are.
    users = [client.secrets.aws.generate_credentials(name=role)["data"]["username"] for _ in range(2)]
    client.sys.revoke_prefix(prefix=f"aws/creds/vault-{uid}")
    deadline = time.monotonic() + 30
    while any(user_exists(iam, u) for u in users):
        assert time.monotonic() < deadline, "revoke-prefix did not end the users"
        time.sleep(0.2)
    client.secrets.aws.delete_role(name=role)
    with pytest.raises(hvac.exceptions.InvalidPath):
        client.secrets.aws.read_role(name=role)


def test_sts_roles_of_every_type(gateway, client, iam, uid):
    role_name = f"vault-{uid}"
    arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=TRUST_ANYONE)["Role"]["Arn"]
    assumed = f"vault-{uid}/deploy"
    client.secrets.aws.create_or_update_role(
        name=assumed, credential_type="assumed_role", role_arns=[arn], default_sts_ttl="15m", max_sts_ttl=3600
    )
    data = client.secrets.aws.read_role(name=assumed)["data"]
    assert data["credential_type"] == "assumed_role"
    assert (data["default_sts_ttl"], data["max_sts_ttl"]) == (900, 3600)
    creds = client.secrets.aws.generate_credentials(name=assumed, endpoint="sts", ttl="20m", role_arn=arn)
    assert creds["renewable"] is False and 1100 < creds["lease_duration"] <= 1200
    assert creds["data"]["security_token"]
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.sys.renew_lease(lease_id=creds["lease_id"])

    federated = f"vault-{uid}/federated"
    client.secrets.aws.create_or_update_role(
        name=federated, credential_type="federation_token", policy_document=json.loads(S3_LIST)
    )
    creds = client.secrets.aws.generate_credentials(name=federated, endpoint="sts")
    assert creds["data"]["access_key"] and creds["data"]["security_token"]

    # hvac's helper knows three types; session_token goes through its generic write.
    session = f"vault-{uid}/session"
    client.write(f"aws/roles/{session}", credential_type="session_token", default_sts_ttl=900)
    assert client.secrets.aws.read_role(name=session)["data"]["credential_type"] == "session_token"
    creds = client.secrets.aws.generate_credentials(name=session)
    assert creds["data"]["security_token"]
    for role in (assumed, federated, session):
        client.secrets.aws.delete_role(name=role)


def test_a_key_without_rights_gets_forbidden_in_vaults_shape(gateway, client, api, token, uid):
    role = f"vault-{uid}/locked"
    client.secrets.aws.create_or_update_role(name=role, credential_type="iam_user", policy_document=S3_LIST)
    key = api.create_auth_method(akeyless.CreateAuthMethod(name=f"/vault-{uid}/nobody", token=token))
    nobody = vault_client(gateway)
    nobody.auth.approle.login(role_id=key.access_id, secret_id=key.access_key)
    assert nobody.is_authenticated()
    for call in (
        lambda: nobody.secrets.aws.generate_credentials(name=role),
        lambda: nobody.secrets.aws.read_role(name=role),
        lambda: nobody.secrets.aws.create_or_update_role(name=f"vault-{uid}/mine", credential_type="iam_user"),
        lambda: nobody.secrets.aws.delete_role(name=role),
        lambda: nobody.sys.revoke_prefix(prefix=f"aws/creds/vault-{uid}"),
    ):
        with pytest.raises(hvac.exceptions.Forbidden) as info:
            call()
        assert info.value.errors, "Vault's error shape carries the reason in errors"
    with pytest.raises(hvac.exceptions.Forbidden):
        vault_client(gateway, token="t-not-a-token").secrets.aws.list_roles()
    assert not vault_client(gateway, token="t-not-a-token").is_authenticated()
    client.secrets.aws.read_role(name=role)
    client.secrets.aws.delete_role(name=role)
