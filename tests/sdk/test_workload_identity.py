"""Workload-identity logins through the official Akeyless SDK: a JWT (OAuth2) auth method is
created with both generations of the operation, a role is given to one repository through
sub-claims, and a GitHub-shaped token (signed here with the test-only fixture key
crates/testkit/fixtures/jwt-rsa-a.pem) logs in with access_type "jwt" as the Akeyless GitHub
action does. No Mayfly secret is held by the "CI job"."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import akeyless
import pytest
from akeyless.rest import ApiException
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

FIXTURES = Path(__file__).resolve().parents[2] / "crates" / "testkit" / "fixtures"
ISSUER = "https://token.actions.githubusercontent.com"
AUDIENCE = "https://github.com/octo-org"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims: dict, key: str = "a") -> str:
    """An RS256 JWT signed with fixture key `key`, its kid in the header."""
    private = serialization.load_pem_private_key((FIXTURES / f"jwt-rsa-{key}.pem").read_bytes(), None)
    header = {"alg": "RS256", "typ": "JWT", "kid": f"test-rsa-{key}"}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def github_claims(repository: str, audience: str = AUDIENCE) -> dict:
    now = int(time.time())
    return {
        "sub": f"repo:{repository}:ref:refs/heads/main",
        "repository": repository,
        "repository_owner": repository.split("/")[0],
        "ref": "refs/heads/main",
        "aud": audience,
        "iss": ISSUER,
        "iat": now - 5,
        "nbf": now - 5,
        "exp": now + 600,
    }


def jwks_b64() -> str:
    jwk = json.loads((FIXTURES / "jwt-rsa-a.jwk.json").read_text())
    return base64.b64encode(json.dumps({"keys": [jwk]}).encode()).decode()


def status_of(call, *args) -> int:
    try:
        call(*args)
        return 200
    except ApiException as exc:
        return exc.status


@pytest.mark.parametrize("generation", ["old", "new"])
def test_a_github_token_logs_in_and_gets_only_its_repositorys_role(api, token, uid, generation):
    method = f"/wi-{uid}/github-{generation}"
    if generation == "new":
        out = api.auth_method_create_oauth2(akeyless.AuthMethodCreateOauth2(
            name=method, jwks_json_data=jwks_b64(), unique_identifier="repository", issuer=ISSUER,
            audience=AUDIENCE, force_sub_claims=True, jwt_ttl=30, token=token))
    else:
        out = api.create_auth_method_o_auth2(akeyless.CreateAuthMethodOAuth2(
            name=method, jwks_json_data=jwks_b64(), unique_identifier="repository", issuer=ISSUER,
            audience=AUDIENCE, force_sub_claims=True, token=token))
    access_id = out.access_id
    assert access_id.startswith("p-"), out

    role = f"/wi-{uid}/deployer-{generation}"
    api.create_role(akeyless.CreateRole(name=role, token=token))
    api.set_role_rule(akeyless.SetRoleRule(role_name=role, path=f"/wi-{uid}/*", capability=["read"],
                                           rule_type="auth-method-rule", token=token))
    # force-sub-claims: an association without claims is refused.
    with pytest.raises(ApiException) as info:
        api.assoc_role_auth_method(akeyless.AssocRoleAuthMethod(role_name=role, am_name=method, token=token))
    assert info.value.status == 400
    api.assoc_role_auth_method(akeyless.AssocRoleAuthMethod(
        role_name=role, am_name=method, sub_claims={"repository": "octo-org/app-a"},
        case_sensitive="true", token=token))

    details = api.get_auth_method(akeyless.GetAuthMethod(name=method, token=token))
    assert details.auth_method_access_id == access_id

    # The CI job: only its OIDC token.
    session = api.auth(akeyless.Auth(access_type="jwt", access_id=access_id,
                                     jwt=sign(github_claims("octo-org/app-a"))))
    assert session.token.startswith("t-")
    assert status_of(api.get_auth_method, akeyless.GetAuthMethod(name=method, token=session.token)) == 200

    # Another repository's token logs in but holds no role.
    other = api.auth(akeyless.Auth(access_type="jwt", access_id=access_id,
                                   jwt=sign(github_claims("evil-org/app-a"))))
    assert status_of(api.get_auth_method, akeyless.GetAuthMethod(name=method, token=other.token)) == 403

    # Wrong audience, or signed by a key the method does not trust: 401.
    for jwt in (sign(github_claims("octo-org/app-a", audience="someone-else")),
                sign(github_claims("octo-org/app-a"), key="b")):
        with pytest.raises(ApiException) as info:
            api.auth(akeyless.Auth(access_type="jwt", access_id=access_id, jwt=jwt))
        assert info.value.status in (401, 429), info.value.body


def raw_post(gateway, path: str, body: dict) -> dict:
    """A request the SDK's models cannot make: Mayfly's extension fields."""
    import ssl
    import urllib.request

    context = ssl.create_default_context(cafile=str(gateway.ca_cert_path))
    request = urllib.request.Request(gateway.base_url + path, data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, context=context) as response:
        return json.loads(response.read())


def k8s_claims(namespace: str, account: str) -> dict:
    now = int(time.time())
    return {
        "aud": ["mayfly"], "iss": "https://kubernetes.default.svc.cluster.local",
        "iat": now - 5, "nbf": now - 5, "exp": now + 600,
        "sub": f"system:serviceaccount:{namespace}:{account}",
        "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": account, "uid": "u"},
                          "pod": {"name": f"{account}-1", "uid": "p"}},
    }


def test_a_pod_logs_in_through_the_sdk_with_its_service_account_token(gateway, api, token, uid):
    method = f"/wi-{uid}/k8s"
    # jwks-json-data (the cluster's keys) is a Mayfly extension the SDK model does not carry.
    out = raw_post(gateway, "/auth-method-create-k8s", {
        "token": token, "name": method, "jwks-json-data": jwks_b64(), "audience": "mayfly",
        "k8s-issuer": "https://kubernetes.default.svc.cluster.local", "bound-namespaces": ["team-a"]})
    access_id = out["access_id"]
    role = f"/wi-{uid}/k8s-role"
    api.create_role(akeyless.CreateRole(name=role, token=token))
    api.set_role_rule(akeyless.SetRoleRule(role_name=role, path=f"/wi-{uid}/*", capability=["read"],
                                           rule_type="auth-method-rule", token=token))
    api.assoc_role_auth_method(akeyless.AssocRoleAuthMethod(
        role_name=role, am_name=method, sub_claims={"service_account_name": "deployer"}, token=token))

    sa_token = sign(k8s_claims("team-a", "deployer"))
    session = api.auth(akeyless.Auth(
        access_type="k8s", access_id=access_id, k8s_auth_config_name="prod",
        k8s_service_account_token=base64.b64encode(sa_token.encode()).decode()))
    assert status_of(api.get_auth_method, akeyless.GetAuthMethod(name=method, token=session.token)) == 200
    with pytest.raises(ApiException) as info:
        api.auth(akeyless.Auth(access_type="k8s", access_id=access_id,
                               k8s_service_account_token=sign(k8s_claims("kube-system", "deployer"))))
    assert info.value.status in (401, 429), info.value.body


# ----------------------------------------------------------------------------------------------
# AWS IAM: a signed sts:GetCallerIdentity (cloud-id), checked by moto with IAM auth enforcement on


@pytest.fixture(scope="module")
def enforcing_moto():
    """A private moto that checks signatures after 3 unauthenticated calls (the bootstrap)."""
    import os
    import shutil
    import socket
    import subprocess
    import tempfile

    from conftest import free_port, moto_server_executable

    root = Path(tempfile.mkdtemp(prefix="mayfly-sdk-iam-"))
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
    port = free_port()
    log = open(root / "moto.log", "ab")
    process = subprocess.Popen([str(moto_server_executable()), "-H", "127.0.0.1", "-p", str(port)],
                               stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    try:
        yield url
    finally:
        process.kill()
        process.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def iam_world(enforcing_moto):
    """An admin user (made within moto's unauthenticated allowance), a role it may assume, and a
    second user: the AWS principals the tests log in as."""
    import boto3

    def client(service, key=None, secret=None, token=None):
        return boto3.client(service, endpoint_url=enforcing_moto, region_name="us-east-1",
                            aws_access_key_id=key or "AKIAIOSFODNN7EXAMPLE",
                            aws_secret_access_key=secret or "bootstrap", aws_session_token=token)

    bootstrap = client("iam")
    bootstrap.create_user(UserName="admin")
    admin_key = bootstrap.create_access_key(UserName="admin")["AccessKey"]
    bootstrap.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    admin = (admin_key["AccessKeyId"], admin_key["SecretAccessKey"])
    iam = client("iam", *admin)
    account = client("sts", *admin).get_caller_identity()["Account"]
    iam.create_role(RoleName="ci-deployer", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"AWS": f"arn:aws:iam::{account}:user/admin"}}]}))
    creds = client("sts", *admin).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/ci-deployer", RoleSessionName="gh-run-17")["Credentials"]
    iam.create_user(UserName="intruder")
    intruder_key = iam.create_access_key(UserName="intruder")["AccessKey"]
    return {
        "url": enforcing_moto,
        "account": account,
        "admin": admin,
        "role": (creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]),
        "intruder": (intruder_key["AccessKeyId"], intruder_key["SecretAccessKey"]),
    }


@pytest.fixture(scope="module")
def iam_gateway(enforcing_moto):
    """A gateway allowed to send cloud-ids to the enforcing moto."""
    import os
    import shutil
    import tempfile

    from conftest import Gateway, gateway_binary, make_api, random_admin_credentials

    root = Path(tempfile.mkdtemp(prefix="mayfly-sdk-iam-gw-"))
    access_id, access_key = random_admin_credentials()
    env = {k: v for k, v in os.environ.items() if not (k.startswith("MAYFLY_") or k == "DATABASE_URL")}
    env.update(MAYFLY_ADMIN_ACCESS_ID=access_id, MAYFLY_ADMIN_ACCESS_KEY=access_key,
               MAYFLY_ALLOWED_ENDPOINTS=enforcing_moto, RUST_LOG="info", NO_COLOR="1")
    gw = Gateway(backend="sqlite", binary=gateway_binary(), root=root, env=env,
                 admin_access_id=access_id, admin_access_key=access_key, iam_user_path="/x/")
    gw.start()
    try:
        api = make_api(gw.base_url, gw.ca_cert_path)
        token = api.auth(akeyless.Auth(access_id=access_id, access_key=access_key)).token
        yield gw, api, token
    finally:
        gw.stop()
        shutil.rmtree(root, ignore_errors=True)


def botocore_cloud_id(key: str, secret: str, token: str | None = None, body: str | None = None) -> str:
    """A cloud-id signed by botocore's own SigV4 signer (works with long-term keys too)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    payload = body or "Action=GetCallerIdentity&Version=2011-06-15"
    request = AWSRequest(method="POST", url="https://sts.amazonaws.com/", data=payload,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(key, secret, token), "sts", "us-east-1").add_auth(request)
    headers = {name: [value] for name, value in request.headers.items()}
    wire = {
        "sts_request_method": "POST",
        "sts_request_url": base64.b64encode(b"https://sts.amazonaws.com/").decode(),
        "sts_request_body": base64.b64encode(payload.encode()).decode(),
        "sts_request_headers": base64.b64encode(json.dumps(headers).encode()).decode(),
    }
    return base64.b64encode(json.dumps(wire).encode()).decode()


def test_aws_principals_log_in_with_a_signed_get_caller_identity(iam_world, iam_gateway):
    from akeyless_cloud_id import CloudId

    gw, api, admin_token = iam_gateway
    account = iam_world["account"]
    out = api.auth_method_create_aws_iam(akeyless.AuthMethodCreateAwsIam(
        name="/aws/ci", bound_aws_account_id=[account], bound_role_name=["ci-deployer"],
        sts_url=iam_world["url"], token=admin_token))
    role_method = out.access_id
    out = api.create_auth_method_awsiam(akeyless.CreateAuthMethodAWSIAM(
        name="/aws/admins", bound_aws_account_id=[account],
        bound_arn=[f"arn:aws:iam::{account}:user/admin"], sts_url=iam_world["url"], token=admin_token))
    user_method = out.access_id

    def login(access_id, cloud_id):
        return api.auth(akeyless.Auth(access_type="aws_iam", access_id=access_id, cloud_id=cloud_id))

    def refused(access_id, cloud_id):
        with pytest.raises(ApiException) as info:
            login(access_id, cloud_id)
        return info.value.status, info.value.body

    # The akeyless-cloud-id package, from the assumed role's temporary credentials.
    session = login(role_method, CloudId().generate(*iam_world["role"]))
    assert session.token.startswith("t-")
    # botocore's signer with the admin user's long-term key (no session token).
    session = login(user_method, botocore_cloud_id(*iam_world["admin"]))
    assert session.token.startswith("t-")

    # Another user of the account: STS says who it is, and the method does not bind it.
    status, body = refused(user_method, botocore_cloud_id(*iam_world["intruder"]))
    assert status == 401 and "bound-arn" in body, body
    # The role's method does not take a user either.
    status, body = refused(role_method, botocore_cloud_id(*iam_world["admin"]))
    assert status == 401 and "bound-role-name" in body, body
    # A tampered signature: STS refuses it.
    wire = json.loads(base64.b64decode(botocore_cloud_id(*iam_world["admin"])))
    headers = json.loads(base64.b64decode(wire["sts_request_headers"]))
    headers["Authorization"] = [headers["Authorization"][0][:-4] + "0000"]
    wire["sts_request_headers"] = base64.b64encode(json.dumps(headers).encode()).decode()
    status, body = refused(user_method, base64.b64encode(json.dumps(wire).encode()).decode())
    assert status == 401 and "STS refused" in body, body
    # Another action, signed correctly, is never sent.
    status, body = refused(user_method, botocore_cloud_id(
        *iam_world["admin"],
        body="Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::1:role/x&RoleSessionName=s"))
    assert status == 401 and "GetCallerIdentity" in body, body


def test_an_sts_url_outside_the_policy_is_refused_and_never_called(iam_gateway):
    gw, api, admin_token = iam_gateway
    for url in ("http://169.254.169.254", "https://sts.evil.example", "http://127.0.0.1:1"):
        with pytest.raises(ApiException) as info:
            api.auth_method_create_aws_iam(akeyless.AuthMethodCreateAwsIam(
                name="/aws/ssrf", bound_aws_account_id=["123456789012"], sts_url=url, token=admin_token))
        assert info.value.status == 400 and "MAYFLY_ALLOWED_ENDPOINTS" in info.value.body, info.value.body
