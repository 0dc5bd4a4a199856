"""Workload-identity logins through the official Akeyless SDK: a JWT (OAuth2) auth method is
created with both generations of the operation, a role is given to one repository through
sub-claims, and a GitHub-shaped token (signed here with the test-only fixture key
crates/testkit/fixtures/jwt-rsa-a.pem) logs in with access_type "jwt" as the Akeyless GitHub
action does. No Mayfly secret is held by the "CI job".

Kubernetes: a pod logs in with its service-account token through a k8s auth config, verified
online by the cluster's TokenReview API (the fake API server of tests/sdk/kube_api.py, over
HTTPS with its own CA), the config managed with the SDK's gateway-*-k8s-auth-config calls."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import akeyless
import pytest
from akeyless.rest import ApiException
from kube_api import FIXTURES, KUBE_ISSUER, k8s_claims, sign
from test_sdk import raw_json

ISSUER = "https://token.actions.githubusercontent.com"
AUDIENCE = "https://github.com/octo-org"


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


def test_a_pod_logs_in_offline_with_the_k8s_methods_own_cluster_keys(gateway, api, token, uid):
    """The Mayfly extension: a method holding the cluster's JWKS verifies tokens itself, with
    no k8s auth config (a named config that does not exist falls back to those keys)."""
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


# An opaque base64 value: the SDK requires signing-key on k8s auth configs (Akeyless signs its
# own tokens with the method's key); Mayfly accepts it and keeps nothing.
SIGNING_KEY = base64.b64encode(b"sdk-required-signing-key-not-kept").decode()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def k8s_auth(api, access_id: str, config: str, sa_token: str):
    """A pod's login as the Akeyless k8s clients make it: the token base64-encoded."""
    return api.auth(akeyless.Auth(access_type="k8s", access_id=access_id, k8s_auth_config_name=config,
                                  k8s_service_account_token=b64(sa_token)))


def k8s_auth_retrying(api, access_id: str, config: str, sa_token: str):
    """`k8s_auth`, waiting out the login throttle (429, after refused logins) up to ~30 s."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return k8s_auth(api, access_id, config, sa_token)
        except ApiException as exc:
            if exc.status != 429 or time.monotonic() > deadline:
                raise
            retry_after = (exc.headers or {}).get("Retry-After") or "1"
            time.sleep(min(float(retry_after), 5.0) + 0.1)


def k8s_refused(api, access_id: str, config: str, sa_token: str) -> tuple[int, str]:
    """A login that must be refused: 401, or 429 when the throttle answered first."""
    with pytest.raises(ApiException) as info:
        k8s_auth(api, access_id, config, sa_token)
    assert info.value.status in (401, 429), info.value.body
    return info.value.status, info.value.body or ""


def test_a_pod_logs_in_through_a_k8s_auth_config_verified_by_the_clusters_token_review(
        gateway, api, token, uid, kube_api_server):
    kube = kube_api_server
    reviewer = kube.reviewer_jwt
    # The auth method holds no cluster keys: the SDK's own model, nothing Mayfly-specific.
    method = f"/wi-{uid}/k8s-online"
    out = api.create_auth_method_k8_s(akeyless.CreateAuthMethodK8S(
        name=method, audience="mayfly", bound_namespaces=["team-a"], token=token))
    access_id = out.access_id
    assert access_id.startswith("p-"), out
    role = f"/wi-{uid}/k8s-online-role"
    api.create_role(akeyless.CreateRole(name=role, token=token))
    api.set_role_rule(akeyless.SetRoleRule(role_name=role, path=f"/wi-{uid}/*", capability=["read"],
                                           rule_type="auth-method-rule", token=token))
    api.assoc_role_auth_method(akeyless.AssocRoleAuthMethod(
        role_name=role, am_name=method, sub_claims={"namespace": "team-a", "service_account_name": "deployer"},
        token=token))

    pod = sign(k8s_claims("team-a", "deployer"))
    config = f"k8s-{uid}"
    # No config yet, and no keys of its own: nothing to verify the token with.
    status, body = k8s_refused(api, access_id, config, pod)
    assert status == 429 or "k8s-auth-config-name" in body, body

    # The SDK reads nothing from the answers of create, update and delete: its output models
    # (cluster_id, parts_change, total_hash) are Akeyless's config-sync fields, while Mayfly
    # answers {"name": ...}; so the config is checked by reading it back.
    api.gateway_create_k8_s_auth_config(akeyless.GatewayCreateK8SAuthConfig(
        name=config, access_id=access_id, k8s_host=kube.origin, k8s_ca_cert=b64(kube.ca_pem),
        k8s_issuer=KUBE_ISSUER, token_reviewer_jwt=reviewer, signing_key=SIGNING_KEY, token=token))

    seen = len(kube.reviews())
    session = k8s_auth_retrying(api, access_id, config, pod)
    assert session.token.startswith("t-"), session
    reviews = kube.reviews()[seen:]
    assert len(reviews) == 1, reviews
    assert reviews[0].bearer == reviewer, "reviewed with the token reviewer JWT"
    assert reviews[0].audiences == ["mayfly"] and reviews[0].authenticated, reviews
    # The session holds the role its namespace and service account are associated with.
    assert status_of(api.get_auth_method, akeyless.GetAuthMethod(name=method, token=session.token)) == 200
    # Another service account of the namespace logs in, but holds no role.
    builder = k8s_auth_retrying(api, access_id, config, sign(k8s_claims("team-a", "builder")))
    assert status_of(api.get_auth_method, akeyless.GetAuthMethod(name=method, token=builder.token)) == 403

    # Another namespace (the cluster vouches for it; the method does not bind it), and a token
    # signed by a key the cluster does not know (the cluster does not vouch for it).
    status, body = k8s_refused(api, access_id, config, sign(k8s_claims("kube-system", "deployer")))
    assert status == 429 or "bound-namespaces" in body, body
    seen = len(kube.reviews())
    status, body = k8s_refused(api, access_id, config, sign(k8s_claims("team-a", "deployer"), key="b"))
    if status == 401:
        assert "TokenReview" in body, body
        assert [r.authenticated for r in kube.reviews()[seen:]] == [False]

    # Read back through the SDK: the host, the CA, never the reviewer JWT or the signing key.
    got = api.gateway_get_k8_s_auth_config(akeyless.GatewayGetK8SAuthConfig(name=config, token=token))
    assert got.name == config and got.k8s_host == kube.origin, got
    assert got.auth_method_access_id == access_id, got
    assert got.k8s_ca_cert.strip() == kube.ca_pem.strip(), got
    assert got.k8s_issuer == KUBE_ISSUER, got
    assert not got.k8s_token_reviewer_jwt, got
    raw, shown = raw_json(api.gateway_get_k8_s_auth_config,
                          akeyless.GatewayGetK8SAuthConfig(name=config, token=token))
    assert shown["token_reviewer_jwt_set"] is True, shown
    for secret in (reviewer, SIGNING_KEY):
        assert secret.encode() not in raw, shown
    # The method lists the config (a Mayfly extension of get-auth-method).
    raw, shown = raw_json(api.get_auth_method, akeyless.GetAuthMethod(name=method, token=token))
    assert shown["access_info"]["k8s_access_rules"]["k8s_auth_configs"] == [config], shown
    assert reviewer.encode() not in raw and SIGNING_KEY.encode() not in raw

    # Update through the SDK. Its model requires access-id, k8s-host, new-name and signing-key
    # (and sends k8s-issuer's default unless given): the same values keep the config as it is,
    # and the reviewer JWT, not given again, is kept since host and CA do not change.
    def update(**changes):
        fields = dict(name=config, new_name=config, access_id=access_id, k8s_host=kube.origin,
                      k8s_issuer=KUBE_ISSUER, signing_key=SIGNING_KEY, token=token)
        fields.update(changes)
        return api.gateway_update_k8_s_auth_config(akeyless.GatewayUpdateK8SAuthConfig(**fields))

    update()
    seen = len(kube.reviews())
    k8s_auth_retrying(api, access_id, config, pod)
    assert [r.bearer for r in kube.reviews()[seen:]] == [reviewer]
    # Another CA (here the gateway's own) without the reviewer JWT again: refused, so a stored
    # reviewer JWT is never sent to a server it was not given for.
    with pytest.raises(ApiException) as info:
        update(k8s_ca_cert=b64(gateway.ca_cert_path.read_text()))
    assert info.value.status == 400 and "token-reviewer-jwt" in info.value.body, info.value.body
    # A reviewer JWT the cluster does not accept: the login cannot be checked (503, not 401).
    wrong_reviewer = sign(k8s_claims("kube-system", "not-a-reviewer"))
    update(token_reviewer_jwt=wrong_reviewer)
    with pytest.raises(ApiException) as info:
        k8s_auth_retrying(api, access_id, config, pod)
    assert info.value.status == 503 and "token-reviewer-jwt" in info.value.body, info.value.body
    assert kube.reviews()[-1].bearer == wrong_reviewer
    # Given back, with the CA as base64 PEM, and renamed: logins name the new name.
    renamed = f"{config}-renamed"
    update(new_name=renamed, k8s_ca_cert=b64(kube.ca_pem), token_reviewer_jwt=reviewer)
    seen = len(kube.reviews())
    k8s_auth_retrying(api, access_id, renamed, pod)
    assert [r.bearer for r in kube.reviews()[seen:]] == [reviewer]
    with pytest.raises(ApiException) as info:
        api.gateway_get_k8_s_auth_config(akeyless.GatewayGetK8SAuthConfig(name=config, token=token))
    assert info.value.status == 404, info.value.body

    # Delete through the SDK: gone, and logins naming it have nothing to verify with.
    api.gateway_delete_k8_s_auth_config(akeyless.GatewayDeleteK8SAuthConfig(name=renamed, token=token))
    with pytest.raises(ApiException) as info:
        api.gateway_get_k8_s_auth_config(akeyless.GatewayGetK8SAuthConfig(name=renamed, token=token))
    assert info.value.status == 404, info.value.body
    seen = len(kube.reviews())
    k8s_refused(api, access_id, renamed, pod)
    assert len(kube.reviews()) == seen, "no review without a config"

    # No reviewer JWT in the gateway's log either.
    assert reviewer not in gateway.logs() and wrong_reviewer not in gateway.logs()


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
