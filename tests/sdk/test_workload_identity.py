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
