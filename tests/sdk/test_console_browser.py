"""The web console (/ui/) driven in a real browser: Debian's headless chromium through its
chromium-driver, with Selenium's WebDriver client (pinned in tests/requirements.txt).

One walk-through, as an operator does it: log in with the admin key, create a target (first
with mistakes, to see the inline errors) and an iam_user dynamic secret through the forms, get
a credential and check with boto3 that it works against moto, revoke it and see it gone (from
the page and from IAM), read the audit trail and the access page, log out; then log in with a
key that holds no role and be refused, and check that a logged-out session's cookie is dead.

Every page is screenshotted into target/console-screenshots/ (docs/console.md shows some).
The test fails on any browser console message of level SEVERE that is not an expected refused
page, and on any request the pages make to a host other than the gateway (read from the
browser's performance log); the browser also resolves no other host at all.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import ssl
import urllib.parse
from pathlib import Path

import boto3
import pytest

from conftest import REPO_ROOT, running_gateway

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.support.ui import Select, WebDriverWait


def gone(element) -> bool:
    """Whether `element` left the document (the page it was on has been replaced).

    Chromium reports a replaced node either as a stale element or, racing the navigation, as
    "Node with given id does not belong to the document"; both mean the same here."""
    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True
    except WebDriverException as e:
        if "does not belong to the document" in str(e):
            return True
        raise

SCREENSHOTS = REPO_ROOT / "target" / "console-screenshots"
POLICY_S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"


def chromium_paths() -> tuple[str, str]:
    browser = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.fail(
            "Debian's chromium and chromium-driver are needed (scripts/test.sh installs them): "
            "apt-get install -y chromium chromium-driver"
        )
    return browser, driver


@pytest.fixture(scope="module")
def console_gateway(moto_url, kube_api_server):
    with running_gateway("sqlite", moto_url, kube_api_server) as gw:
        yield gw


class Browser:
    """A headless chromium on a 1280x800 window, with the gateway as the only host it may reach."""

    def __init__(self, gateway):
        browser, driver = chromium_paths()
        self.gateway = gateway
        self.origin = gateway.base_url
        options = Options()
        options.binary_location = browser
        for arg in (
            "--headless=new",
            "--no-sandbox",  # root in CI containers
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--window-size=1280,800",
            # The gateway's certificate is issued by the CA it generated, which the browser's
            # store does not hold; the connection is still HTTPS (Secure cookies apply).
            "--ignore-certificate-errors",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--disable-domain-reliability",
            "--disable-client-side-phishing-detection",
            "--disable-features=OptimizationHints,MediaRouter,Translate",
            # Nothing but loopback resolves: a request elsewhere fails (and is caught below).
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        ):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(executable_path=driver))
        self.driver.set_page_load_timeout(60)
        self.console_errors: list[str] = []
        self.expected_errors: list[str] = []
        self.foreign_requests: list[str] = []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # -- navigation ---------------------------------------------------------------------------

    def get(self, path: str) -> None:
        self.driver.get(self.origin + path)

    @property
    def path(self) -> str:
        parts = urllib.parse.urlsplit(self.driver.current_url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self) -> str:
        return self.find("body").text

    def h1(self) -> str:
        return self.find("main h1").text

    def fill(self, fields: dict[str, str]) -> None:
        for name, value in fields.items():
            element = self.find(f'[name="{name}"]')
            if element.tag_name == "select":
                Select(element).select_by_value(value)
            else:
                element.clear()
                element.send_keys(value)

    def click(self, css: str) -> None:
        """Clicks what `css` finds and waits until the next page has replaced this one."""
        old = self.find("html")
        self.find(css).click()
        WebDriverWait(self.driver, 30).until(lambda _: gone(old))

    def submit(self, form_css: str = "main form.stack") -> None:
        self.click(f"{form_css} button[type=submit]")

    def shot(self, name: str) -> None:
        self.driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))

    # -- what the browser saw -----------------------------------------------------------------

    def check_logs(self, allowed_statuses: tuple[int, ...] = ()) -> None:
        """Collects console errors (except 'status of N' for an expected refused page) and
        requests to other hosts since the last call."""
        for entry in self.driver.get_log("browser"):
            if entry["level"] != "SEVERE":
                continue
            message = entry["message"]
            if any(f"status of {s} " in message for s in allowed_statuses) and message.startswith(self.origin):
                self.expected_errors.append(message)
                continue
            self.console_errors.append(message)
        for entry in self.driver.get_log("performance"):
            event = json.loads(entry["message"])["message"]
            if event.get("method") != "Network.requestWillBeSent":
                continue
            url = event["params"]["request"]["url"]
            if url.startswith("data:"):
                self.foreign_requests.append(url[:80])
                continue
            parts = urllib.parse.urlsplit(url)
            if f"{parts.scheme}://{parts.netloc}" != self.origin:
                self.foreign_requests.append(url)

    def quit(self) -> None:
        self.driver.quit()


@pytest.fixture
def browser(console_gateway):
    b = Browser(console_gateway)
    try:
        yield b
    finally:
        b.quit()


def api_post(gateway, path: str, body: dict) -> dict:
    """A JSON POST to the gateway's Akeyless API, trusting its CA."""
    context = ssl.create_default_context(cafile=str(gateway.ca_cert_path))
    conn = http.client.HTTPSConnection("127.0.0.1", gateway.port, context=context, timeout=30)
    try:
        conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        data = json.loads(response.read() or b"{}")
    finally:
        conn.close()
    assert response.status == 200, f"{path}: {response.status} {data}"
    return data


def parse_exports(block: str) -> dict[str, str]:
    values = {}
    for line in block.splitlines():
        assert line.startswith("export "), line
        key, _, value = line[len("export "):].partition("=")
        assert value.startswith("'") and value.endswith("'"), line
        values[key] = value[1:-1]
    return values


def test_an_operator_works_through_the_console(browser, console_gateway, moto_url, iam, uid):
    gw = console_gateway
    b = browser
    folder = f"/console-{uid}"
    target = f"{folder}/aws"
    secret = f"{folder}/s3-reader"

    # Not logged in: every page leads to the login form.
    b.get("/ui/")
    assert b.path == "/ui/login", b.path
    assert b.find("label[for=access-id]").text == "Access id"
    b.shot("01-login")
    b.check_logs()

    # A wrong key: refused with what to check (401), nothing else.
    b.fill({"access-id": gw.admin_access_id, "access-key": "not-the-key"})
    b.submit()
    assert "access id or access key is wrong" in b.text(), b.text()
    b.check_logs(allowed_statuses=(401,))

    # The admin logs in with the keyboard only: type, Tab to the key, Enter submits.
    b.find('[name="access-id"]').clear()
    b.find('[name="access-id"]').send_keys(gw.admin_access_id + Keys.TAB)
    old = b.find("html")
    b.driver.switch_to.active_element.send_keys(gw.admin_access_key + Keys.ENTER)
    WebDriverWait(b.driver, 30).until(lambda _: gone(old))
    assert b.path == "/ui/", b.path
    assert b.h1() == "Overview"
    cookie = b.driver.get_cookie("mayfly_console")
    assert cookie and cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict", cookie
    assert cookie["path"] == "/ui", cookie
    assert not cookie["value"].startswith("t-") and "t-" not in cookie["value"][:4], "the cookie must not carry the raw token"
    b.shot("02-overview-empty")
    b.check_logs()

    # Targets: the empty state, then the form with mistakes, then right.
    b.click('nav a[href="/ui/targets"]')
    assert b.h1() == "Targets"
    b.get("/ui/targets/new")
    b.fill({"name": "no leading slash//x", "access-key-id": "short", "access-key": "s", "region": "mars-1"})
    b.submit()
    invalid = {e.get_attribute("name") for e in b.find_all(".field.invalid input")}
    assert {"name", "region"} <= invalid, f"inline errors missing: {invalid}\n{b.text()}"
    assert b.find('[name="access-key"]').get_attribute("value") == "", "the secret is never echoed back"
    b.shot("03-target-form-errors")
    b.check_logs(allowed_statuses=(400,))

    b.fill(
        {
            "name": target,
            "access-key-id": "AKIAIOSFODNN7EXAMPLE",
            "access-key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "region": "us-east-1",
            "iam-endpoint": moto_url,
            "sts-endpoint": moto_url,
            "description": "moto, for the console test",
        }
    )
    b.submit()
    assert b.h1() == target, b.text()
    assert "Target created" in b.text()
    assert "wJalrXUtnFEMI" not in b.driver.page_source
    b.shot("04-target-details")
    b.check_logs()

    # An iam_user dynamic secret through its form.
    b.get("/ui/secrets/new?mode=iam_user")
    b.fill({"name": secret, "target-name": target, "aws-user-policies": POLICY_S3_READ, "user-ttl": "60"})
    b.submit()
    assert b.find(".field.invalid #f-user-ttl"), "user-ttl without a unit is refused inline"
    assert "no unit" in b.text(), b.text()
    b.check_logs(allowed_statuses=(400,))
    b.fill({"user-ttl": "15m"})
    b.shot("05-secret-form")
    b.submit()
    assert b.h1() == secret, b.text()
    assert "Dynamic secret created" in b.text()
    assert "No live credentials" in b.text()
    b.check_logs()

    # The folder tree leads to it.
    b.get("/ui/secrets")
    b.click(f'a[href="/ui/secrets?folder={folder}"]')
    b.shot("06-secrets-folder")
    b.click(f'a[href="/ui/secret?name={secret}"]')
    assert b.h1() == secret

    # Get a credential: shown once, as shell exports, and it works against moto.
    b.click('form[action="/ui/secret/credential"] button')
    assert b.h1() == "Your new credential", b.text()
    exports = parse_exports(b.find("#exports").text)
    credential_id = b.find("#credential-id").text
    assert exports["AWS_ACCESS_KEY_ID"] == b.find("#access-key-id").text
    assert b.find("#expires").text, "the expiry is shown"
    b.shot("07-credential")
    b.check_logs()
    sts = boto3.client(
        "sts",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
    )
    arn = sts.get_caller_identity()["Arn"]
    assert f":user{gw.iam_user_path}" in arn, arn
    user = arn.rsplit("/", 1)[1]
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [exports["AWS_ACCESS_KEY_ID"]]

    # Listed live; revoked; gone from the page and from IAM.
    b.get(f"/ui/secret?name={secret}")
    rows = b.find("#live-credentials").text
    assert credential_id in rows, rows
    b.shot("08-live-credentials")
    b.click(f'button[aria-label="Revoke {credential_id}"]')
    assert "Revoked" in b.text(), b.text()
    assert not b.find_all("#live-credentials"), "the revoked credential is still listed as live"
    assert "No live credentials" in b.text()
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName=user)
    b.shot("09-revoked")
    b.check_logs()

    # The overview counts it; the audit trail has what the console did.
    b.get("/ui/")
    assert "1\ndynamic secrets" in b.text() and "0\nlive credentials" in b.text(), b.text()
    b.shot("10-overview")
    b.get(f"/ui/audit?item={urllib.parse.quote(secret)}")
    audit = b.text()
    for op in ("console:create-dynamic-secret", "console:get-dynamic-secret-value", "console:revoke-tmp-creds"):
        assert op in audit, f"{op} not in the audit page:\n{audit}"
    assert f"issued tmp creds {credential_id}" in audit, audit
    assert f"revoked credential {credential_id}" in audit, audit
    b.shot("11-audit")
    b.get("/ui/access")
    assert gw.admin_access_id in b.text()
    b.shot("12-access")
    b.check_logs()

    # A phone-sized window: nothing wider than the screen (tables scroll inside their box).
    b.driver.set_window_size(390, 844)
    for path, name in ((f"/ui/secret?name={secret}", "14-narrow-secret"), ("/ui/audit", "15-narrow-audit")):
        b.get(path)
        overflow = b.driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is {overflow}px wider than a 390px screen"
        b.shot(name)
    b.driver.set_window_size(1280, 800)
    b.check_logs()

    # A key without rights: made through the API, as an administrator does.
    admin = api_post(gw, "/auth", {"access-id": gw.admin_access_id, "access-key": gw.admin_access_key})["token"]
    created = api_post(gw, "/create-auth-method", {"name": f"{folder}/nobody", "token": admin})
    nobody_id, nobody_key = created["access_id"], created["access_key"]

    # Log out; the session's cookie is dead even if replayed.
    old_cookie = b.driver.get_cookie("mayfly_console")
    b.click("form.logout button")
    assert b.path == "/ui/login?out=1", b.path
    assert "logged out" in b.text()
    b.driver.add_cookie({"name": "mayfly_console", "value": old_cookie["value"], "path": "/ui", "secure": True})
    b.get("/ui/")
    assert b.path.startswith("/ui/login"), f"a logged-out session still works: {b.path}"
    b.check_logs()

    b.get("/ui/login")
    b.fill({"access-id": nobody_id, "access-key": nobody_key})
    b.submit()
    assert b.h1() == "Overview", b.text()
    assert "0\ntargets" in b.text() or "0 targets" in b.text().replace("\n", " "), b.text()
    b.get(f"/ui/secret?name={secret}")
    assert b.h1() == "Not allowed", b.text()
    assert f"access id {nobody_id}" in b.text(), b.text()
    b.shot("13-refused")
    b.check_logs(allowed_statuses=(403,))
    b.get("/ui/targets/new")
    b.fill({"name": f"{folder}/mine", "access-key-id": "AKIAIOSFODNN7EXAMPLE", "access-key": "x" * 40})
    b.submit()
    assert b.h1() == "Not allowed", b.text()
    b.check_logs(allowed_statuses=(403,))
    b.click("form.logout button")
    assert b.path == "/ui/login?out=1"
    b.check_logs()

    assert not b.console_errors, "browser console errors:\n" + "\n".join(b.console_errors)
    # The log is really read: the refused pages (401, 400, 403) were each logged by the browser.
    for status in (401, 400, 403):
        assert any(f"status of {status} " in m for m in b.expected_errors), (status, b.expected_errors)
    assert not b.foreign_requests, "requests to hosts other than the gateway:\n" + "\n".join(b.foreign_requests)
    assert len(list(SCREENSHOTS.glob("*.png"))) >= 15


# ----- editing, deleting, rotating and revealing; every mode's form; copy buttons -----------
# Separate tests, each logging in on its own and making what it needs through the API.

TRUST_ANYONE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
)


def admin_token(gw) -> str:
    return api_post(gw, "/auth", {"access-id": gw.admin_access_id, "access-key": gw.admin_access_key})["token"]


def moto_target(gw, moto_url: str, name: str, secret: str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY") -> None:
    api_post(
        gw,
        "/create-aws-target",
        {
            "token": admin_token(gw),
            "name": name,
            "access-key-id": "AKIAIOSFODNN7EXAMPLE",
            "access-key": secret,
            "region": "us-east-1",
            "iam-endpoint": moto_url,
            "sts-endpoint": moto_url,
        },
    )


def log_in(b: Browser) -> None:
    b.get("/ui/login")
    b.fill({"access-id": b.gateway.admin_access_id, "access-key": b.gateway.admin_access_key})
    b.submit()
    assert b.h1() == "Overview", b.text()


def finish(b: Browser) -> None:
    b.check_logs()
    assert not b.console_errors, "browser console errors:\n" + "\n".join(b.console_errors)
    assert not b.foreign_requests, "requests to hosts other than the gateway:\n" + "\n".join(b.foreign_requests)


def test_an_operator_edits_a_target(browser, console_gateway, moto_url, uid):
    b = browser
    target = f"/console-edit-{uid}/aws"
    moto_target(console_gateway, moto_url, target)
    log_in(b)
    b.get(f"/ui/target?name={target}")
    b.click(f'a[href="/ui/target/edit?name={target}"]')
    assert b.h1() == f"Edit {target}", b.text()
    assert b.find('[name="region"]').get_attribute("value") == "us-east-1"
    assert b.find('[name="access-key"]').get_attribute("value") == ""
    # A mistake first: shown under its field, from the API's parser.
    b.fill({"region": "moon-1"})
    b.submit()
    assert b.find(".field.invalid #f-region"), b.text()
    assert "is not an AWS region" in b.text()
    b.check_logs(allowed_statuses=(400,))
    b.fill({"region": "eu-west-1", "description": "edited in the browser"})
    b.find('[name="delete_protection"]').click()
    b.shot("16-target-edit")
    b.submit()
    assert b.h1() == target, b.text()
    assert "Target updated" in b.text()
    assert "eu-west-1" in b.text() and "edited in the browser" in b.text()
    b.shot("17-target-updated")
    # The new pages fit a phone-sized screen too.
    b.driver.set_window_size(390, 844)
    for path in (f"/ui/target?name={target}", f"/ui/target/edit?name={target}", "/ui/secrets/new?mode=iam_user"):
        b.get(path)
        overflow = b.driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is {overflow}px wider than a 390px screen"
    b.driver.set_window_size(1280, 800)
    finish(b)


def test_an_operator_creates_an_assume_role_secret_and_copies_a_credential(browser, console_gateway, moto_url, iam, uid):
    b = browser
    folder = f"/console-role-{uid}"
    target = f"{folder}/aws"
    secret = f"{folder}/deployer"
    moto_target(console_gateway, moto_url, target)
    role_arn = iam.create_role(RoleName=f"console-{uid}", AssumeRolePolicyDocument=TRUST_ANYONE)["Role"]["Arn"]
    log_in(b)

    # The mode first, then a form with only that mode's fields.
    b.get("/ui/secrets")
    b.click('a.button[href="/ui/secrets/new"]')
    assert b.h1() == "Create a dynamic secret"
    b.shot("18-secret-modes")
    b.click('a[href="/ui/secrets/new?mode=assume_role"]')
    assert b.h1() == "Create an assume_role dynamic secret", b.h1()
    names = {e.get_attribute("name") for e in b.find_all("main form.stack [name]")}
    assert {"aws-role-arns", "aws-external-id", "session-revocation"} <= names, names
    assert not names & {"aws-user-groups", "aws-user-programmatic-access", "aws-user-console-access"}, names
    b.fill({"name": secret, "target-name": target, "user-ttl": "15m"})
    b.submit()
    assert b.find(".field.invalid #f-aws-role-arns"), b.text()
    b.driver.execute_script("arguments[0].scrollIntoView()", b.find("#f-aws-role-arns"))
    b.shot("19-assume-role-form")
    b.check_logs(allowed_statuses=(400,))
    # Session revocation would write deny policies on the role: off, for a plain moto role.
    if b.find('[name="session-revocation"]').is_selected():
        b.find('[name="session-revocation"]').click()
    b.fill({"aws-role-arns": role_arn})
    b.submit()
    assert b.h1() == secret, b.text()
    assert "Dynamic secret created" in b.text() and "assume_role" in b.text()

    # A credential: copy buttons and a live countdown, added by the one compiled-in script.
    b.click('form[action="/ui/secret/credential"] button')
    assert b.h1() == "Your new credential", b.text()
    copies = b.find_all("button.copy")
    assert len(copies) >= 3, [c.get_attribute("aria-label") for c in copies]
    assert "export AWS_SESSION_TOKEN=" in b.find("#exports").text
    WebDriverWait(b.driver, 5).until(lambda _: "expires in" in b.find(".countdown").text)
    first = b.find(".countdown").text
    WebDriverWait(b.driver, 5).until(lambda _: b.find(".countdown").text != first)
    b.find('button.copy[aria-label="Copy Shell exports"]').click()
    WebDriverWait(b.driver, 5).until(lambda _: b.find("#exports ~ .copy-status").text)
    status = b.find("#exports ~ .copy-status").text
    assert status == "Copied" or status.startswith("Selected"), status
    b.shot("20-credential-copy")
    exports = parse_exports(b.find("#exports").text)
    sts = boto3.client(
        "sts",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=exports["AWS_SESSION_TOKEN"],
    )
    assert f"assumed-role/console-{uid}/" in sts.get_caller_identity()["Arn"]
    finish(b)


def test_an_operator_deletes_a_dynamic_secret(browser, console_gateway, moto_url, uid):
    b = browser
    folder = f"/console-del-{uid}"
    target = f"{folder}/aws"
    secret = f"{folder}/session"
    moto_target(console_gateway, moto_url, target)
    api_post(
        console_gateway,
        "/gateway-create-producer-aws",
        {"token": admin_token(console_gateway), "name": secret, "target-name": target,
         "access-mode": "session_token", "user-ttl": "15m", "session-revocation": "false"},
    )
    log_in(b)
    b.get(f"/ui/secret?name={secret}")
    b.click(f'a[href="/ui/secret/delete?name={secret}"]')
    assert b.h1() == f"Delete {secret}?", b.text()
    b.shot("21-secret-delete-confirm")
    b.click('form[action="/ui/secret/delete"] button')
    assert b.path.startswith(f"/ui/secrets?folder={folder}"), b.path
    assert f"Dynamic secret {secret} deleted" in b.text(), b.text()
    assert not b.find_all(f'a[href="/ui/secret?name={secret}"]')
    b.get(f"/ui/secret?name={secret}")
    assert b.h1() == "Not found", b.text()
    b.check_logs(allowed_statuses=(404,))
    finish(b)


def test_an_operator_reveals_a_target_secret_and_finds_it_audited(browser, console_gateway, moto_url, uid):
    b = browser
    target = f"/console-reveal-{uid}/aws"
    secret_key = f"revealed{uid}/K7MDENG/bPxRfiCYEXAMPLEKEY"
    moto_target(console_gateway, moto_url, target, secret=secret_key)
    log_in(b)
    b.get(f"/ui/target?name={target}")
    assert secret_key not in b.driver.page_source
    b.click('form[action="/ui/target/reveal"] button')
    assert b.h1() == f"Secret of {target}", b.text()
    assert b.find("#target-secret-access-key").text == secret_key
    assert b.find_all('button.copy[aria-label="Copy secret access key"]'), "a copy button"
    b.shot("22-target-revealed")
    # Not on any other page, and in the audit trail (without the value).
    for path in (f"/ui/target?name={target}", f"/ui/target/edit?name={target}", "/ui/targets"):
        b.get(path)
        assert secret_key not in b.driver.page_source, path
    b.get(f"/ui/audit?item={urllib.parse.quote(target)}")
    rows = [r.text for r in b.find_all("table tbody tr")]
    assert any("console:get-target-details" in r and "ok" in r for r in rows), rows
    assert secret_key not in b.driver.page_source
    b.shot("23-reveal-audited")
    finish(b)


# -- Access management, the overview's last day, the audit time filter ---------------------------
# Separate functions (each logs in afresh), so each part fails on its own.


def test_an_operator_manages_access_through_the_console(browser, console_gateway, uid):
    gw = console_gateway
    b = browser
    folder = f"/access-{uid}"
    role = f"{folder}/ci-reader"
    key_name = f"{folder}/ci"
    log_in(b)

    # A role: a bad name is sent back next to its field, then the right one.
    b.get("/ui/access")
    assert b.h1() == "Access"
    name = b.find("#create-role [name=name]")
    name.clear()
    name.send_keys("no slash")
    b.submit("#create-role")
    invalid = b.find("#create-role .field.invalid #f-name")
    assert "The role was not created" in b.text(), b.text()
    b.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", invalid)
    b.shot("30-role-form-errors")
    b.check_logs(allowed_statuses=(400,))
    name = b.find("#create-role [name=name]")
    name.clear()
    name.send_keys(role)
    b.find("#create-role [name=description]").send_keys("CI: read the team's secrets")
    Select(b.find("#create-role [name=audit-access]")).select_by_value("own")
    b.submit("#create-role")
    assert b.h1() == role, b.text()
    assert "Role created" in b.text()

    # A rule: the API's parser refuses a path without a leading slash, inline.
    b.fill({"path": "team-a/*"})
    b.find('#set-rule input[name=capability][value=read]').click()
    b.find('#set-rule input[name=capability][value=list]').click()
    b.submit("#set-rule")
    assert b.find("#set-rule .field.invalid #f-path"), b.text()
    assert "must start with /" in b.text()
    assert b.find('#set-rule input[name=capability][value=read]').is_selected(), "ticks are kept"
    b.check_logs(allowed_statuses=(400,))
    b.fill({"path": f"{folder}/*"})
    b.submit("#set-rule")
    assert "Rule saved" in b.text(), b.text()
    rules = b.find("#rules").text
    assert f"{folder}/*" in rules and "read,list" in rules, rules
    b.check_logs()

    # An API key: its access key shown once.
    b.get("/ui/access")
    b.find("#create-auth-method [name=name]").send_keys(key_name)
    b.submit("#create-auth-method")
    assert b.h1() == "API key created", b.text()
    access_id = b.find("#new-access-id").text
    access_key = b.find("#new-access-key").text
    assert access_id.startswith("p-") and len(access_key) >= 32
    b.shot("31-api-key-created")
    b.check_logs()
    b.get("/ui/access")
    assert access_id in b.text() and access_key not in b.driver.page_source, "shown once only"
    b.shot("32-access")

    # Give the role to the key: its tokens get the role's rule.
    b.get(f"/ui/role?name={urllib.parse.quote(role)}")
    Select(b.find("#associate [name=am-name]")).select_by_value(key_name)
    b.submit("#associate")
    assert "now holds this role" in b.text(), b.text()
    assert access_id in b.find("#holders").text
    b.driver.set_window_size(1280, 1500)  # the whole role page in one picture
    b.shot("33-role")
    b.driver.set_window_size(1280, 800)
    token = api_post(gw, "/auth", {"access-id": access_id, "access-key": access_key})["token"]
    assert api_post(gw, "/list-items", {"path": folder, "token": token}) is not None
    b.check_logs()

    # A phone-sized window: the access pages fit (tables scroll inside their box).
    b.driver.set_window_size(390, 844)
    for path in ("/ui/access", f"/ui/role?name={urllib.parse.quote(role)}", "/ui/"):
        b.get(path)
        overflow = b.driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is {overflow}px wider than a 390px screen"
    b.driver.set_window_size(1280, 800)

    # The audit trail has every change, and never the key.
    b.get(f"/ui/audit?item={urllib.parse.quote(role)}")
    audit = b.text()
    for op in ("console:create-role", "console:set-role-rule", "console:assoc-role-am"):
        assert op in audit, f"{op}:\n{audit}"
    b.get(f"/ui/audit?item={urllib.parse.quote(key_name)}")
    assert "console:create-auth-method" in b.text() and access_key not in b.driver.page_source
    finish(b)


def test_the_overview_charts_the_last_day_and_the_audit_filters_by_time(browser, console_gateway, moto_url, iam, uid):
    gw = console_gateway
    b = browser
    folder = f"/chart-{uid}"
    secret = f"{folder}/s3-reader"
    # A credential issued and revoked through the API, for the chart.
    admin = api_post(gw, "/auth", {"access-id": gw.admin_access_id, "access-key": gw.admin_access_key})["token"]
    api_post(
        gw,
        "/create-aws-target",
        {
            "name": f"{folder}/aws",
            "access-key-id": "AKIAIOSFODNN7EXAMPLE",
            "access-key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "region": "us-east-1",
            "iam-endpoint": moto_url,
            "sts-endpoint": moto_url,
            "token": admin,
        },
    )
    api_post(
        gw,
        "/gateway-create-producer-aws",
        {
            "name": secret,
            "target-name": f"{folder}/aws",
            "access-mode": "iam_user",
            "aws-user-policies": POLICY_S3_READ,
            "aws-user-programmatic-access": True,
            "user-ttl": "15m",
            "token": admin,
        },
    )
    api_post(gw, "/get-dynamic-secret-value", {"name": secret, "token": admin})
    live = api_post(gw, "/gateway-get-producer-tmp-creds", {"name": secret, "token": admin})
    assert len(live) == 1, live
    api_post(gw, "/gateway-revoke-producer-tmp-creds", {"name": secret, "tmp-creds-id": live[0]["id"], "token": admin})

    log_in(b)
    chart = b.find("#activity-chart")
    bars = b.find_all("#activity-chart rect.issued")
    assert len(bars) == 24, len(bars)
    assert any(float(r.get_attribute("height")) > 0 for r in bars), "an issued bar"
    assert any(float(r.get_attribute("height")) > 0 for r in b.find_all("#activity-chart rect.revoked")), "a revoked bar"
    caption = b.find("figure.chart-box figcaption").text
    assert "issued (" in caption and "revoked or expired (" in caption, caption
    assert chart.get_attribute("role") == "img"
    assert b.find("#lag"), "the revocation lag"
    assert b.find_all("#reconciler-last-run") or "No reconciler run recorded yet" in b.text(), b.text()
    b.driver.execute_script("arguments[0].scrollIntoView()", b.find("#activity"))
    b.shot("34-overview-chart")
    b.check_logs()

    # The audit page's time filter: a bad time is sent back next to its field.
    b.get("/ui/audit")
    b.fill({"from": "yesterday", "item": secret})
    b.click("form.filters button[type=submit]")
    assert b.find(".field.invalid #f-from"), b.text()
    assert "2026-01-31 12:00" in b.text()
    b.shot("35-audit-time-error")
    b.check_logs(allowed_statuses=(400,))
    import datetime

    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    tomorrow = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    b.fill({"from": f"{today} 00:00", "to": today})
    b.click("form.filters button[type=submit]")
    audit = b.text()
    assert "get-dynamic-secret-value" in audit and secret in audit, audit
    assert b.find('[name="from"]').get_attribute("value") == f"{today} 00:00", "the filter is kept"
    b.shot("36-audit-time-filter")
    b.fill({"from": tomorrow, "to": ""})
    b.click("form.filters button[type=submit]")
    assert "No audit events match" in b.text(), b.text()
    finish(b)


def test_an_operator_creates_a_jwt_auth_method_and_narrows_a_role_by_sub_claims(browser, console_gateway, uid):
    gw = console_gateway
    b = browser
    folder = f"/wi-{uid}"
    method = f"{folder}/github"
    role = f"{folder}/deployer"
    jwk = json.loads((REPO_ROOT / "crates" / "testkit" / "fixtures" / "jwt-rsa-a.jwk.json").read_text())
    log_in(b)

    # Only the JWT form's fields, once it is opened; the others stay closed.
    b.get("/ui/access")
    assert not b.find("#create-jwt [name=jwks-uri]").is_displayed()
    b.find("#create-jwt summary").click()
    assert b.find("#create-jwt [name=jwks-uri]").is_displayed()
    assert not b.find("#create-k8s [name=bound-namespaces]").is_displayed()
    assert not b.find_all("#create-jwt [name=bound-namespaces]"), "no Kubernetes field in the JWT form"

    # Neither a JWKS URL nor keys: the API's message, next to the field, the form still open.
    b.find("#create-jwt [name=name]").send_keys(method)
    b.find("#create-jwt [name=unique-identifier]").send_keys("repository")
    b.submit("#create-jwt form")
    assert "The auth method was not created" in b.text(), b.text()
    assert b.find("#create-jwt .field.invalid #jwt-jwks-uri").is_displayed()
    assert b.find("#create-jwt [name=name]").get_attribute("value") == method, "the input is kept"
    b.check_logs(allowed_statuses=(400,))

    b.find("#create-jwt [name=jwks-json-data]").send_keys(json.dumps({"keys": [jwk]}))
    b.find("#create-jwt [name=issuer]").send_keys("https://token.actions.githubusercontent.com")
    b.find("#create-jwt [name=audience]").send_keys("https://github.com/octo-org")
    b.find("#create-jwt [name=force-sub-claims]").click()
    b.driver.set_window_size(1280, 1700)  # the whole form in one picture
    b.driver.execute_script("arguments[0].scrollIntoView()", b.find("#create-jwt"))
    b.shot("37-jwt-auth-method-form")  # refused once for its keys, now filled in
    b.driver.set_window_size(1280, 800)
    b.submit("#create-jwt form")
    assert f"Auth method {method} created" in b.text(), b.text()
    assert method in b.find("#auth-method-list").text
    shown = api_post(gw, "/get-auth-method", {"token": admin_token(gw), "name": method})
    rules = shown["access_info"]["oauth2_access_rules"]
    assert rules["unique_identifier"] == "repository" and rules["force_sub_claims"], shown
    b.check_logs()

    # A role for one repository only: sub-claims on the association.
    api_post(gw, "/create-role", {"token": admin_token(gw), "name": role})
    b.get(f"/ui/role?name={urllib.parse.quote(role)}")
    Select(b.find("#associate [name=am-name]")).select_by_value(method)
    b.submit("#associate")
    assert "force-sub-claims" in b.text(), "an association without sub-claims is refused"
    b.check_logs(allowed_statuses=(400,))
    Select(b.find("#associate [name=am-name]")).select_by_value(method)
    b.fill({"sub-claims": "repository=octo-org/app"})
    b.submit("#associate")
    assert "now holds this role" in b.text(), b.text()
    assert "repository=octo-org/app" in b.find("#holders").text
    b.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", b.find("#holders"))
    b.shot("38-role-narrowed-by-sub-claims")
    finish(b)
