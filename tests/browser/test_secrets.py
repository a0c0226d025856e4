"""The sidebar's Secrets section in a real JupyterLab (issue 21): a secret set through the vault is listed
by name; one added through the form lands in the vault; a bad name is refused in the section; a server
error (deleting a name already gone) is said in the section; a delete through the UI (confirmed) removes
it from the vault. No value is ever in the page's DOM, its text, its inputs or any REST reply it received.

The Lab and this process share the vault's key through ``MLWS_SECRET_KEY`` (no keyring, no key file).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from jupyter_mlws import Workspace
from jupyter_mlws.core.workspace import close_backends
from tests.browser.conftest import Lab, running_lab, screenshot

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000
SEEDED = "SEEDED-TOKEN"
SEEDED_VALUE = "seeded-value-7f3a9c"
ADDED = "NEW-API-KEY"
ADDED_VALUE = "typed-value-e41d02"


@dataclass
class Seeded:
    lab: Lab
    key: str


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Seeded]:
    from cryptography.fernet import Fernet

    base = tmp_path_factory.mktemp("secrets-ui")
    root, home = base / "root", base / "home"
    root.mkdir()
    (home / "config").mkdir(parents=True)
    key = Fernet.generate_key().decode()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MLWS_SECRET_KEY", key)  # the Lab's process inherits it
        ws = Workspace.create(root)
        ws.get_default_keyvault().set_secret(SEEDED, SEEDED_VALUE)
        with running_lab(root, home) as lab:
            yield Seeded(lab, key)
    close_backends()


def _row(page: Any, name: str) -> Any:
    return page.locator(f'#mlws-sidebar [data-testid="mlws-secret-row"][data-name="{name}"]')


def _needles(*values: str) -> list[str]:
    found = []
    for value in values:
        raw = value.encode()
        found += [value, base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()]
    return found


def _assert_never_shown(page: Any, replies: list[Any], *values: str) -> None:
    """No value in the DOM (attributes included), the visible text, the inputs, the page's storage, or a
    body or header of a REST reply the page received."""
    seen = page.evaluate(
        """() => [
            document.documentElement.outerHTML,
            document.body.innerText,
            ...[...document.querySelectorAll('input, textarea')].map(i => i.value),
            JSON.stringify(Object.assign({}, localStorage)),
            JSON.stringify(Object.assign({}, sessionStorage)),
        ]"""
    )
    for needle in _needles(*values):
        for text in seen:
            assert needle not in text
    assert replies, "the page received no REST reply"
    for reply in replies:
        body = reply.body().decode("utf-8", "replace")
        headers = str(reply.headers)
        for needle in _needles(*values):
            assert needle not in body, reply.url
            assert needle not in headers, reply.url


def test_secrets_are_listed_added_and_deleted_by_name_only(
    browser: Any, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLWS_SECRET_KEY", seeded.key)  # this process reads the vault with the Lab's key
    vault = Workspace.from_config(seeded.lab.root).get_default_keyvault()
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000},
        extra_http_headers={"Authorization": f"token {seeded.lab.token}"},
    )
    page = context.new_page()
    replies: list[Any] = []

    def keep(reply: Any) -> None:
        # Every REST reply but the events stream's (it never ends, so it has no body to read).
        if "/mlws/api/v1/" in reply.url and "/mlws/api/v1/events" not in reply.url:
            replies.append(reply)

    page.on("response", keep)
    page.goto(f"{seeded.lab.url}/lab")
    page.locator('.jp-SideBar [title="ML Workspace"]').click(timeout=TIMEOUT_MS)
    section = page.locator('#mlws-sidebar [data-testid="mlws-secrets"]')

    # Set through the vault: listed by name, with when it was set.
    _row(page, SEEDED).wait_for(timeout=TIMEOUT_MS)
    assert section.locator("h3").inner_text().lower() == "secrets"
    assert re.search(r"set (just now|\d+ min ago)", _row(page, SEEDED).inner_text())

    name = section.locator('[data-testid="mlws-secret-name"]')
    value = section.locator('[data-testid="mlws-secret-value"]')
    add = section.locator('[data-testid="mlws-secret-add"]')
    error = section.locator('[data-testid="mlws-secret-error"]')
    assert value.get_attribute("type") == "password"

    # A bad name is said in the section as it is typed, and nothing is sent.
    name.fill("api key")
    assert error.inner_text() == 'A secret name has only letters, digits and "-" (not space).'
    value.fill(ADDED_VALUE)
    add.click()
    assert error.is_visible() and section.locator('[data-testid="mlws-secret-row"]').count() == 1
    assert [s["name"] for s in vault.list_secrets()] == [SEEDED]

    # Added through the form: listed, in the vault, and both inputs emptied.
    name.fill(ADDED)
    assert error.is_hidden()
    value.fill(ADDED_VALUE)
    assert add.inner_text() == "Add secret"
    add.click()
    _row(page, ADDED).wait_for(timeout=TIMEOUT_MS)
    assert vault.get_secret(ADDED) == ADDED_VALUE
    assert value.input_value() == "" and name.input_value() == ""
    rows = section.locator('[data-testid="mlws-secret-row"]')
    assert [rows.nth(i).get_attribute("data-name") for i in range(rows.count())] == [ADDED, SEEDED]
    screenshot(page, "secrets-section")
    _assert_never_shown(page, replies, SEEDED_VALUE, ADDED_VALUE)

    # A server error is said in the section: the seeded secret is deleted elsewhere while its delete is
    # being confirmed, so the server answers 404.
    _row(page, SEEDED).locator('[data-testid="mlws-secret-delete"]').click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=TIMEOUT_MS)
    assert SEEDED in dialog.inner_text()
    vault.delete_secret(SEEDED)
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    error.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert error.inner_text().startswith(f"Could not delete {SEEDED}:") and SEEDED in error.inner_text()
    _row(page, SEEDED).wait_for(state="detached", timeout=TIMEOUT_MS)

    # Delete through the UI: a cancel keeps it, a confirmed delete removes it from the vault.
    _row(page, ADDED).locator('[data-testid="mlws-secret-delete"]').click()
    dialog.locator(".jp-Dialog-button:not(.jp-mod-accept)").click()
    dialog.wait_for(state="detached", timeout=TIMEOUT_MS)
    assert [s["name"] for s in vault.list_secrets()] == [ADDED]
    _row(page, ADDED).locator('[data-testid="mlws-secret-delete"]').click()
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    _row(page, ADDED).wait_for(state="detached", timeout=TIMEOUT_MS)
    assert vault.list_secrets() == []
    assert error.is_hidden()
    assert section.locator(".jp-mlws-status").first.inner_text() == "No secrets yet"
    _assert_never_shown(page, replies, SEEDED_VALUE, ADDED_VALUE)
    context.close()
