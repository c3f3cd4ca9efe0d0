"""The management console (/ui/) in a real Chromium (Debian's, driven by Playwright) against the launcher:
sign-in, seed 001 by drag and drop while a simulated device (plain DDI HTTP calls) polls, downloads and reports
until the console shows in_sync, cancel and force-cancel, deep links and the back button.

Screenshots of each view go to out/screenshots/ (git-ignored). Chromium is /usr/bin/chromium (`make venv`
installs Debian's package when missing); SKYHAWK_CHROMIUM names another binary.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest
import requests

PROJECT_DIR = Path(__file__).resolve().parents[2]
SHOTS = PROJECT_DIR / "out" / "screenshots"
CHROMIUM = os.environ.get("SKYHAWK_CHROMIUM", "/usr/bin/chromium")
TIMEOUT_MS = 15_000  # the deployment view refreshes every 3 s


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make venv` installs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, stack):
    context = browser.new_context(viewport={"width": 1280, "height": 760})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Chromium logs every 4xx answer to fetch; those the tests provoke and the console shows are let through.
    expected = tuple(f"status of {status}" for status in (
        "400 (Bad Request)", "401 (Unauthorized)", "412 (Precondition Failed)"))
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and not msg.text.endswith(expected) else None)
    page.on("requestfailed", lambda req: errors.append(f"{req.method} {req.url} failed"))
    yield page
    context.close()
    assert errors == [], errors  # no script errors, nothing blocked by the page's Content-Security-Policy


def sign_in(page, stack, user: str = "admin", password: str = "admin") -> None:
    page.goto(f"{stack.url}/ui/")
    page.get_by_label("User").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def signed_in(page, stack):
    sign_in(page, stack)
    page.locator("#who").filter(has_text="admin @ DEFAULT").wait_for()
    return page


class Device:
    """A device speaking plain DDI over HTTP with its target token."""

    def __init__(self, url: str, controller_id: str, token: str) -> None:
        self.base = f"{url}/DEFAULT/controller/v1/{controller_id}"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"TargetToken {token}"

    def poll(self) -> dict:
        resp = self.session.get(self.base)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def deployment(self) -> dict:
        href = self.poll()["_links"]["deploymentBase"]["href"]
        return self.session.get(href).json()

    def download_all(self, deployment: dict) -> list[bytes]:
        blobs = []
        for chunk in deployment["deployment"]["chunks"]:
            for artifact in chunk["artifacts"]:
                resp = self.session.get(artifact["_links"]["download-http"]["href"])  # 302 to S3, token dropped
                assert resp.status_code == 200, resp.text
                blobs.append(resp.content)
        return blobs

    def feedback(self, action_id: str, execution: str, finished: str = "none", message: str = "") -> None:
        body = {"id": action_id, "status": {"execution": execution, "result": {"finished": finished},
                                            "details": [message] if message else []}}
        resp = self.session.post(f"{self.base}/deploymentBase/{action_id}/feedback", json=body)
        assert resp.status_code == 200, resp.text


@pytest.fixture(scope="module")
def target_tokens(stack):
    """Devices authenticate with their target token for this module; the tenant's default afterwards."""
    key = f"{stack.url}/rest/v1/system/configs/authentication.targettoken.enabled"
    before = stack.admin.get(key).json()
    assert stack.admin.put(key, json={"value": True}).status_code == 200
    yield
    if before.get("global", True):
        stack.admin.delete(key)
    else:
        stack.admin.put(key, json={"value": before["value"]})


def create_release(stack, name: str, version: str, payload: bytes) -> tuple[int, int]:
    admin, url = stack.admin, stack.url
    sm = admin.post(f"{url}/rest/v1/softwaremodules", json=[{"name": name, "version": version, "type": "os"}])
    assert sm.status_code == 201, sm.text
    sm_id = sm.json()[0]["id"]
    art = admin.post(f"{url}/rest/v1/softwaremodules/{sm_id}/artifacts", files={"file": (f"{name}.img", payload)})
    assert art.status_code == 201, art.text
    ds = admin.post(f"{url}/rest/v1/distributionsets", json=[{"name": f"{name}-DS", "version": version, "type": "os",
                                                                "modules": [{"id": sm_id}]}])
    assert ds.status_code == 201, ds.text
    return sm_id, ds.json()[0]["id"]


def create_targets(stack, *ids: str) -> None:
    resp = stack.admin.post(f"{stack.url}/rest/v1/targets", json=[
        {"controllerId": cid, "name": cid.replace("ui-", "UI ").title(), "securityToken": f"tok-{cid}"} for cid in ids])
    assert resp.status_code == 201, resp.text


def assert_labelled(page) -> None:
    """Every form control on screen has a label (or an aria-label), every button a name: keyboard and screen
    reader users can find them."""
    unnamed = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea, button')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
        .map(el => el.outerHTML.slice(0, 120))""")
    assert unnamed == [], unnamed


def row(page, controller_id: str):
    return page.locator(f'#targets tr[data-target="{controller_id}"]')


def test_console_is_served_without_anything_from_elsewhere(stack, page):
    resp = page.goto(f"{stack.url}/ui/")
    assert resp.status == 200
    policy = resp.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    page.get_by_role("heading", name="Sign in").wait_for()
    origin = stack.url
    loaded = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(u.startswith(origin + "/ui/") for u in loaded), loaded


def test_sign_in_refuses_a_wrong_password_then_signs_in(stack, page):
    sign_in(page, stack, password="wrong")
    page.get_by_role("alert").filter(has_text="Wrong user or password").wait_for()
    page.get_by_label("Password").fill("admin")
    page.get_by_role("button", name="Sign in").click()
    page.locator("#who").filter(has_text="admin @ DEFAULT").wait_for()
    page.get_by_role("heading", name="Targets").wait_for()
    page.screenshot(path=SHOTS / "signed-in.png")


def test_a_deep_link_signs_in_first_then_opens_its_view_and_sign_out_forgets_the_login(stack, page):
    page.goto(f"{stack.url}/ui/#/configuration")
    page.get_by_label("User").fill("admin")
    page.get_by_label("Password").fill("admin")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Configuration files").wait_for()
    assert page.url.endswith("#/configuration") and page.title() == "Configuration · skyhawk console"
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.evaluate("sessionStorage.length") == 0
    page.goto(f"{stack.url}/ui/#/deployment")
    page.get_by_role("heading", name="Sign in").wait_for()  # nothing kept: no view without a login


def test_seed_001_drag_and_drop_until_the_device_is_in_sync(stack, signed_in, target_tokens):
    page = signed_in
    create_targets(stack, "ui-device01", "ui-device02")
    payload = b"myOs 1.0 image\n" * 64
    _, ds_id = create_release(stack, "myOs", "1.0-ui", payload)
    device = Device(stack.url, "ui-device01", "tok-ui-device01")
    device.poll()  # registered

    page.get_by_label("Filter targets").fill("ui-device")
    row(page, "ui-device01").and_(page.locator('[data-status="registered"]')).wait_for()
    assert row(page, "ui-device02").get_attribute("data-status") == "unknown"
    page.locator('#targets').get_by_text("just now").first.wait_for()  # last poll

    page.locator(f'#distribution-sets li[data-set="{ds_id}"]').drag_to(row(page, "ui-device01"))
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("To 1 target: ui-device01").wait_for()
    dialog.get_by_label("Forced", exact=True).check()
    dialog.get_by_label("Maintenance window").check()
    dialog.get_by_label("Duration (hh:mm:ss)").fill("01:00:00")
    assert_labelled(page)
    page.screenshot(path=SHOTS / "deployment-assign-dialog.png")
    # with the window's default schedule (daily at 02:00) the action may wait; assign without it
    dialog.get_by_label("Maintenance window").uncheck()
    dialog.get_by_role("button", name="Assign").click()
    row(page, "ui-device01").and_(page.locator('[data-status="pending"]')).wait_for()

    deployment = device.deployment()
    assert deployment["deployment"]["download"] == "forced"
    assert device.download_all(deployment) == [payload]
    device.feedback(deployment["id"], "proceeding", message="installing myOs 1.0")
    device.feedback(deployment["id"], "closed", "success", message="myOs 1.0 installed")
    row(page, "ui-device01").and_(page.locator('[data-status="in_sync"]')).wait_for()
    assert row(page, "ui-device01").locator(".status-text").inner_text() == "In sync"

    row(page, "ui-device01").get_by_role("link", name="ui-device01").click()
    assert page.url.endswith("#/deployment/ui-device01")
    actions = page.locator("#actions")
    actions.locator(f'tr[data-action="{deployment["id"]}"][data-status="finished"]').wait_for()
    actions.get_by_role("button", name="Messages").click()
    page.get_by_text("myOs 1.0 installed").wait_for()
    page.get_by_text("installing myOs 1.0").wait_for()
    assert_labelled(page)
    page.screenshot(path=SHOTS / "deployment.png")


def test_a_set_dropped_on_a_tag_goes_to_every_target_with_that_tag(stack, signed_in):
    page, admin, url = signed_in, stack.admin, stack.url
    create_targets(stack, "ui-tag01", "ui-tag02", "ui-tag03")
    _, ds_id = create_release(stack, "tagOs", "5.0-ui", b"tagged")
    tag = admin.post(f"{url}/rest/v1/targettags", json=[{"name": "ui-tagged"}])
    assert tag.status_code == 201, tag.text
    tag_id = tag.json()[0]["id"]
    for cid in ("ui-tag01", "ui-tag03"):
        assert admin.post(f"{url}/rest/v1/targettags/{tag_id}/assigned/{cid}").status_code == 200
    chip = page.locator('#tag-drops li[data-tag="ui-tagged"]')
    chip.get_by_role("button", name="ui-tagged").click()  # shows the tagged targets
    page.locator("#target-count").filter(has_text="2 targets").wait_for()
    assert page.get_by_label("Filter targets").input_value() == "tag==ui-tagged"

    page.locator(f'#distribution-sets li[data-set="{ds_id}"]').drag_to(chip)
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("To 2 targets: ui-tag01, ui-tag03").wait_for()
    dialog.get_by_role("button", name="Assign").click()
    for cid in ("ui-tag01", "ui-tag03"):
        row(page, cid).and_(page.locator('[data-status="pending"]')).wait_for()
    assert admin.get(f"{url}/rest/v1/targets/ui-tag02").json()["updateStatus"] == "unknown"


def test_a_target_that_stopped_polling_is_marked_overdue(stack, signed_in, target_tokens):
    from chalicelib import clock
    page = signed_in
    create_targets(stack, "ui-quiet01")
    Device(stack.url, "ui-quiet01", "tok-ui-quiet01").poll()
    page.get_by_label("Filter targets").fill("ui-quiet")
    row(page, "ui-quiet01").and_(page.locator('[data-status="registered"]')).wait_for()
    assert row(page, "ui-quiet01").locator(".overdue").count() == 0
    # the service's clock (the launcher runs in this process) moves past pollingTime + pollingOverdueTime
    clock.advance(37 * 3600 * 1000)
    try:
        row(page, "ui-quiet01").locator(".overdue").filter(has_text="overdue").wait_for()
    finally:
        clock.advance(-37 * 3600 * 1000)
    row(page, "ui-quiet01").locator(".overdue").wait_for(state="detached")


def test_keyboard_assignment_to_a_selection_then_cancel_and_force_cancel(stack, signed_in, target_tokens):
    page = signed_in
    create_targets(stack, "ui-kbd01", "ui-kbd02")
    _, ds_id = create_release(stack, "kbdOs", "2.0-ui", b"kbd")
    page.get_by_label("Filter targets").fill("ui-kbd")
    for cid in ("ui-kbd01", "ui-kbd02"):
        row(page, cid).wait_for()
        page.get_by_label(f"Select {cid}").check()  # keyboard-operable checkboxes
    page.locator(f'#distribution-sets li[data-set="{ds_id}"]').get_by_role("button", name="Assign to 2 selected").press("Enter")
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("To 2 targets: ui-kbd01, ui-kbd02").wait_for()
    dialog.get_by_label("Soft").check()
    dialog.get_by_label("Maintenance window").press("Space")
    dialog.get_by_label("Schedule (cron)").fill("0 30 1 ? * SUN")
    dialog.get_by_label("Duration (hh:mm:ss)").fill("03:00:00")
    dialog.get_by_label("Time zone (±hh:mm)").fill("+01:00")
    dialog.get_by_role("button", name="Assign").press("Enter")
    for cid in ("ui-kbd01", "ui-kbd02"):
        row(page, cid).and_(page.locator('[data-status="pending"]')).wait_for()
    for cid in ("ui-kbd01", "ui-kbd02"):
        [action] = stack.admin.get(f"{stack.url}/rest/v1/targets/{cid}/actions").json()["content"]
        detail = stack.admin.get(f"{stack.url}/rest/v1/targets/{cid}/actions/{action['id']}").json()
        assert detail["forceType"] == "soft"
        window = detail["maintenanceWindow"]
        assert (window["schedule"], window["duration"], window["timezone"]) == ("0 30 1 ? * SUN", "03:00:00", "+01:00")
    action_id = stack.admin.get(f"{stack.url}/rest/v1/targets/ui-kbd01/actions").json()["content"][0]["id"]

    # a deep link to the target, then cancel: the action waits for the device (canceling), then force-cancel
    page.goto(f"{stack.url}/ui/#/deployment/ui-kbd01")
    action = page.locator(f'#actions tr[data-action="{action_id}"]')
    action.get_by_role("button", name="Cancel").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel action").click()
    page.locator(f'#actions tr[data-action="{action_id}"][data-status="canceling"]').wait_for()
    page.locator(f'#actions tr[data-action="{action_id}"]').get_by_role("button", name="Force cancel").click()
    page.get_by_role("dialog").get_by_role("button", name="Force cancel").click()
    page.locator(f'#actions tr[data-action="{action_id}"][data-status="canceled"]').wait_for()
    assert stack.admin.get(f"{stack.url}/rest/v1/targets/ui-kbd01/actions/{action_id}").json()["status"] == "canceled"

    # the back button returns to the previous target's URL and view
    page.get_by_role("link", name="ui-kbd02").click()
    page.get_by_role("heading", name="Ui-Kbd02").wait_for()
    page.go_back()
    assert page.url.endswith("#/deployment/ui-kbd01")
    page.locator(f'#actions tr[data-action="{action_id}"]').wait_for()


def test_upload_a_module_and_a_set_and_a_20_mb_artifact_straight_to_s3(stack, signed_in, tmp_path):
    page = signed_in
    page.get_by_role("link", name="Upload").click()
    page.get_by_label("Module name").fill("uiFirmware")
    page.get_by_label("Module version").fill("3.0")
    page.get_by_label("Module type").select_option("os")
    page.get_by_role("button", name="Create module").click()
    page.get_by_role("heading", name="uiFirmware:3.0").wait_for()
    sm_id = int(page.url.rsplit("/", 1)[1])

    data = os.urandom(1024) * (20 * 1024)  # 20 MB
    stack.s3.clear()
    image = tmp_path / "ui-firmware-3.0.img"
    image.write_bytes(data)
    page.get_by_label("Artifact file").set_input_files(image)  # a local path: the browser reads the file itself
    page.get_by_role("button", name="Upload", exact=True).click()
    page.locator("#upload-percent").filter(has_text="100 %: ui-firmware-3.0.img added").wait_for(timeout=60_000)
    assert page.locator("#upload-progress").evaluate("p => p.value") == 100
    sha256 = hashlib.sha256(data).hexdigest()
    assert page.locator('#upload-result [data-hash="sha256"]').inner_text() == sha256
    page.locator('#artifacts tr[data-artifact="ui-firmware-3.0.img"]').get_by_text(sha256).wait_for()
    # the bytes went to S3 directly (a presigned PUT through the strict S3 proxy), not through the API
    assert [s.status for s in stack.s3.seen() if s.method == "PUT"] == [200]
    artifacts = stack.admin.get(f"{stack.url}/rest/v1/softwaremodules/{sm_id}/artifacts").json()
    assert [(a["providedFilename"], a["size"], a["hashes"]["sha256"]) for a in artifacts] == [
        ("ui-firmware-3.0.img", len(data), sha256)]
    assert_labelled(page)
    page.screenshot(path=SHOTS / "upload.png")

    page.get_by_label("Set name").fill("uiFirmware-DS")
    page.get_by_label("Set version").fill("3.0")
    page.get_by_label("Set type").select_option("os")
    page.get_by_label("uiFirmware:3.0 (os)").check()
    page.get_by_role("button", name="Create set").click()
    page.locator("#upload-sets li").filter(has_text="uiFirmware-DS").filter(has_text="uiFirmware:3.0").wait_for()
    sets = stack.admin.get(f"{stack.url}/rest/v1/distributionsets", params={"q": "name==uiFirmware-DS"}).json()
    assert [[m["id"] for m in ds["modules"]] for ds in sets["content"]] == [[sm_id]]


def test_seed_000_edit_with_if_match_diff_and_a_task_until_configured(stack, signed_in):
    page, dcs = signed_in, f"{stack.url}/api/deviceconfiguration/v3"
    create_targets(stack, "ui-sensor01")
    page.get_by_role("link", name="Configuration").click()
    page.get_by_label("Path").fill("ui-sensor01/app.json")
    page.get_by_label("Description").fill("sampling settings")
    page.get_by_role("button", name="Create file").click()
    page.get_by_role("heading", name="ui-sensor01/app.json").wait_for()
    file_id = page.url.rsplit("/", 1)[1]
    editor = page.get_by_label("Content", exact=True)

    def save(text: str) -> None:
        editor.fill(text)
        page.get_by_role("button", name="Save new head").click()

    def head() -> str:
        return stack.admin.get(f"{dcs}/files/{file_id}").json()["head"]

    v1, v2, mine, v3 = '{"sampleRate": 100}', '{"sampleRate": 250}', '{"sampleRate": 500}', '{"sampleRate": 300}'
    save(v1)
    page.locator("#editor-base").filter(has_text=f"Editing over head {hashlib.sha256(v1.encode()).hexdigest()[:12]}").wait_for()
    # someone else moves the head on: the console's save is refused (412) and says so; nothing is overwritten
    theirs = stack.admin.patch(f"{dcs}/files/{file_id}/head", data=v2, headers={
        "Content-Type": "application/json", "If-Match": f'"{head()}"'})
    assert theirs.status_code == 200
    save(mine)
    page.locator("#conflict").filter(has_text="Not saved: the file changed since you opened it").wait_for()
    assert head() == hashlib.sha256(v2.encode()).hexdigest()
    assert editor.input_value() == mine  # the operator's text is kept
    page.get_by_role("button", name="Discard my text and load the new head").click()
    page.wait_for_function("() => document.querySelector('textarea[name=content]').value.includes('250')")
    save(v3)
    h2, h3 = (hashlib.sha256(v.encode()).hexdigest() for v in (v2, v3))
    page.locator("#editor-base").filter(has_text=f"Editing over head {h3[:12]}").wait_for()
    assert head() == h3

    page.locator(f'#revisions tr[data-revision="{h3}"]').wait_for()
    page.get_by_label(f"Compare from {h2[:12]}").check()
    page.get_by_label(f"Compare to {h3[:12]}").check()
    page.get_by_role("button", name="Compare").click()
    page.locator("#diff .del").filter(has_text=v2).wait_for()
    assert page.locator("#diff .add").inner_text() == f"+ {v3}"
    assert_labelled(page)
    page.screenshot(path=SHOTS / "configuration-file.png", full_page=True)

    page.get_by_label("Device for the task").fill("ui-sensor01")
    page.get_by_role("button", name="Create configuration task").click()
    page.wait_for_url(re.compile(r".*#/configuration/device/ui-sensor01$"))
    task = page.locator("#tasks tbody tr")
    task.and_(page.locator('[data-state="CREATED"]')).wait_for()
    task.get_by_role("button", name="Release").click()
    task.and_(page.locator('[data-state="CONFIGURE"]')).wait_for()

    # the device: polls DWS with its token, downloads what the task pins, reports progress, then CONFIGURED
    device = requests.Session()
    device.headers["Authorization"] = "Bearer tok-ui-sensor01"
    dws = f"{stack.url}/api/deploymentworkflow/v3/instances"
    [job] = device.get(dws, params={"group": "OPEN", "modelKey": "mdsp-core-configurationDeployment"}).json()["content"]
    [sent] = job["data"]["files"]
    assert sent["checksum"] == f"sha256:{h3}" and device.get(sent["uri"]).text == v3
    assert device.patch(f"{dws}/{job['id']}", json={"state": "CONFIGURING", "progress": 0.5,
                                                    "message": "applying"}).status_code == 200
    task.and_(page.locator('[data-state="CONFIGURING"]')).wait_for()
    task.get_by_role("cell", name="50 %").wait_for()
    assert device.patch(f"{dws}/{job['id']}", json={"state": "CONFIGURED", "progress": 1}).status_code == 200
    task.and_(page.locator('[data-state="CONFIGURED"]')).wait_for()
    actual = page.locator('#actual li[data-path="ui-sensor01/app.json"]')
    actual.get_by_text(h3[:16]).wait_for()
    actual.get_by_role("button", name="Show content").click()
    actual.locator("pre").filter(has_text=v3).wait_for()
    task.get_by_text("History").click()
    assert_labelled(page)
    page.screenshot(path=SHOTS / "configuration-device.png", full_page=True)
    history = [s["state"] for s in stack.admin.get(f"{dcs}/devices/ui-sensor01/configurationTasks").json()["content"][0]["history"]]
    assert history == ["CREATED", "CONFIGURE", "CONFIGURING", "CONFIGURED"]

    # The task goes after its 90 days, as any (the shared stack's later tests count the tasks they leave); the
    # console then lists none, and the device's actual configuration stays.
    from chalicelib import clock
    assert stack.running.run_job("config_task_expiry", now_ms=clock.now_ms() + 91 * 86_400_000)["deleted"] >= 1
    assert stack.admin.get(f"{dcs}/devices/ui-sensor01/configurationTasks").json()["content"] == []
    page.get_by_text("No tasks yet").wait_for()
    actual.wait_for()


def test_fleet_search_tags_types_rollout_groups_config_and_quotas(stack, signed_in):
    page = signed_in
    create_targets(stack, "ui-fleet-01", "ui-fleet-02", "ui-fleet-03")
    _, ds_id = create_release(stack, "fleetOs", "4.0-ui", b"fleet")
    page.get_by_role("link", name="Fleet").click()

    page.get_by_label("RSQL query").fill("controllerId==ui-fleet-*")
    page.get_by_role("button", name="Search").click()
    page.locator("#rsql-count").filter(has_text="3 targets match").wait_for()
    page.get_by_label("RSQL query").fill("controllerId==")
    page.get_by_role("button", name="Search").click()
    page.locator("#rsql-count.form-error").wait_for()  # the API's refusal of a bad query, shown
    page.get_by_label("RSQL query").fill("controllerId==ui-fleet-*;updateStatus==unknown")
    page.get_by_label("Filter name").fill("ui fleet")
    page.get_by_role("button", name="Save as filter").click()
    page.locator("#target-filters").get_by_text("controllerId==ui-fleet-*;updateStatus==unknown").wait_for()

    page.get_by_label("Tag name").fill("ui-lab")
    page.get_by_role("button", name="Create tag").click()
    page.locator("#target-tags").get_by_text("ui-lab").wait_for()
    page.get_by_label("Type name").fill("ui-gateway")
    page.get_by_label("Type key").fill("ui-gw")
    page.get_by_role("button", name="Create type").click()
    page.locator("#target-types").get_by_text("ui-gateway").wait_for()

    with stack.running.draining(0.1):  # the rollout's creation and start are queued jobs
        page.get_by_label("Rollout name").fill("ui wave")
        page.get_by_label("Distribution set").select_option(str(ds_id))
        page.get_by_label("Targets (RSQL)").fill("controllerId==ui-fleet-*")
        page.get_by_label("Groups", exact=True).fill("3")
        page.get_by_role("button", name="Create rollout").click()
        rollout = page.locator('#rollouts .rollout').filter(has_text="ui wave")
        rollout.and_(page.locator('[data-status="ready"]')).wait_for()
        rollout.get_by_role("button", name="Start").click()
        rollout.and_(page.locator('[data-status="running"]')).wait_for()
        rollout.get_by_role("button", name="Groups").click()
        rollout.locator('li[data-group="group-1"][data-status="running"]').wait_for()
        assert rollout.locator("li[data-group]").count() == 3
        rollout.get_by_role("img", name="group-1: 1 running").wait_for()

    key = page.locator('#tenant-config tr[data-key="pollingTime"]')
    key.get_by_role("textbox").fill("00:05:00")
    key.get_by_role("button", name="Save").click()
    key.get_by_role("button", name="Default").wait_for()
    assert stack.admin.get(f"{stack.url}/rest/v1/system/configs/pollingTime").json()["value"] == "00:05:00"
    key.get_by_role("button", name="Default").click()
    key.get_by_text("default", exact=True).wait_for()
    assert stack.admin.get(f"{stack.url}/rest/v1/system/configs/pollingTime").json()["global"] is True
    page.locator("#quotas tr").first.wait_for()
    assert_labelled(page)
    page.screenshot(path=SHOTS / "fleet.png", full_page=True)
