"""The settings page in a real browser, on the example app, as an operator uses it."""
from __future__ import annotations

import re
import typing as t

import pytest

from flask_xsms import Pair
from flask_xsms._extension import get_state
from flask_xsms.integrations import create_integration
from flask_xsms.integrations import webhook_urls
from flask_xsms.numbers import bindings_of
from flask_xsms.numbers import PLUS_SIGN_REQUIRED
from flask_xsms.numbers import replace_bindings

from .browser import expect
from .browser import ExampleServer
from .browser import FIXTURES
from .browser import OUTPUT_DIR
from .browser import sign_in

pytestmark = pytest.mark.browser
example_server, browser, signed_in, context = FIXTURES

if t.TYPE_CHECKING:
    from playwright.sync_api import Page

PRODUCTION_CARE = "Integrations of Customer Care (Acme, production)"
STAGING_CARE = "Integrations of Customer Care (Acme, staging)"
SALES = "Integrations of Sales (Acme, production)"


def open_settings(page: Page, domain_link: str) -> None:
    if not page.url.startswith("http"):
        page.goto("/")
    page.get_by_role("link", name="Domains").click()
    page.get_by_role("link", name=domain_link).click()
    expect(page.get_by_role("heading", name="Integrations")).to_be_visible()
    page.get_by_role("link", name="Twilio SMS").click()
    expect(page.get_by_role("heading", name="Twilio SMS")).to_be_visible()
    settings_ready(page)


def settings_ready(page: Page) -> None:
    """Wait for the settings page's script: a click before it would do nothing."""
    expect(page.locator("form[data-xsms-settings][data-xsms-ready]")).to_have_count(1)


def domain_bindings(server: ExampleServer, name: str, environment: str) -> list[tuple[str, str]]:
    with server.app.app_context():
        domain = _domain(server, name, environment)
        apps = {a.id: a.name for a in get_state().applications(domain)}
        return [(b.phone_number, apps[b.application_id]) for b in bindings_of(domain)]


def _domain(server: ExampleServer, name: str, environment: str) -> t.Any:
    from example_app.host import as_xsms_domain
    from example_app.models import db
    from example_app.models import Domain
    from example_app.models import Environment

    host_domain = db.session.scalar(
        db.select(Domain)
        .join(Environment)
        .filter(Domain.name == name, Environment.name == environment)
    )
    return as_xsms_domain(host_domain)


def test_operator_binds_numbers_meets_the_rules_and_saves(
    context: t.Any, example_server: ExampleServer
) -> None:
    page = context.new_page()
    page.context.clear_cookies()
    sign_in(page)

    # A number bound in the staging environment first.
    open_settings(page, STAGING_CARE)
    page.get_by_role("button", name="Add Number").click()
    page.get_by_label("Phone Number").nth(0).fill("+1 415 555 0100")
    page.get_by_label("Application").nth(0).select_option(label="Acme Care Staging Assistant")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your Twilio SMS settings were saved.")).to_be_visible()
    settings_ready(page)
    expect(page.get_by_label("Phone Number").nth(0)).to_have_value("+14155550100")

    # Production: two rows, both wrong.
    open_settings(page, PRODUCTION_CARE)
    numbers = page.get_by_label("Phone Number")
    applications = page.get_by_label("Application")
    expect(numbers).to_have_count(0)
    page.get_by_role("button", name="Add Number").click()
    expect(numbers.nth(0)).to_be_focused()
    numbers.nth(0).fill("415 555 0123")
    applications.nth(0).select_option(label="Acme Care Assistant")
    page.get_by_role("button", name="Add Number").click()
    numbers.nth(1).fill("+14155550100")
    applications.nth(1).select_option(label="Acme Care Agent Helper")
    # Only the bindable applications are offered.
    assert applications.nth(1).locator("option").all_inner_texts() == [
        "Choose an application",
        "Acme Care Assistant",
        "Acme Care Agent Helper",
    ]
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved.")
    expect(numbers).to_have_count(2)
    expect(numbers.nth(0)).to_have_value("415 555 0123")
    expect(numbers.nth(1)).to_have_value("+14155550100")
    expect(numbers.nth(0)).to_have_accessible_description(PLUS_SIGN_REQUIRED)
    expect(numbers.nth(1)).to_have_accessible_description(
        "+14155550100 is already used in the IA Domain Customer Care (staging)."
    )
    expect(numbers.nth(0)).to_be_focused()  # the first wrong field
    assert domain_bindings(example_server, "Customer Care", "production") == []

    # Fix the first row, delete the second, save.
    numbers.nth(0).fill("+1 415 555 0123")
    page.get_by_role("button", name="Delete", exact=True).nth(1).click()
    expect(numbers).to_have_count(1)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your Twilio SMS settings were saved.")).to_be_visible()
    settings_ready(page)
    expect(numbers).to_have_count(1)
    expect(numbers.nth(0)).to_have_value("+14155550123")
    expect(applications.nth(0)).to_have_value(re.compile(r"\d+"))
    assert domain_bindings(example_server, "Customer Care", "production") == [
        ("+14155550123", "Acme Care Assistant")
    ]

    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / "settings.png"), full_page=True)

    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", name="Integrations")).to_be_visible()
    expect(page.get_by_text("1 number bound")).to_be_visible()

    # Change the application of the saved number, then remove it.
    page.get_by_role("link", name="Twilio SMS").click()
    settings_ready(page)
    applications.nth(0).select_option(label="Acme Care Agent Helper")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your Twilio SMS settings were saved.")).to_be_visible()
    settings_ready(page)
    assert domain_bindings(example_server, "Customer Care", "production") == [
        ("+14155550123", "Acme Care Agent Helper")
    ]
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_text("No numbers yet.")).to_be_visible()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your Twilio SMS settings were saved.")).to_be_visible()
    settings_ready(page)
    assert domain_bindings(example_server, "Customer Care", "production") == []
    page.get_by_role("link", name="Integrations", exact=True).click()
    expect(page.get_by_text("0 numbers bound")).to_be_visible()


def test_rows_work_from_the_keyboard(context: t.Any, example_server: ExampleServer) -> None:
    page = context.new_page()
    open_settings(page, SALES)
    add = page.get_by_role("button", name="Add Number")
    add.focus()
    page.keyboard.press("Enter")
    number = page.get_by_label("Phone Number").nth(0)
    expect(number).to_be_focused()
    page.keyboard.type("+1 415 555 0177")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Application").nth(0)).to_be_focused()
    page.keyboard.press("Tab")
    delete = page.get_by_role("button", name="Delete", exact=True).nth(0)
    expect(delete).to_be_focused()
    # Focus is visible: the stylesheet draws an outline on :focus-visible.
    outline = delete.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    expect(page.get_by_label("Phone Number")).to_have_count(0)
    expect(add).to_be_focused()
    # Enter in a field saves (Save is the only submit button), never deletes a row.
    page.keyboard.press("Enter")
    page.get_by_label("Phone Number").nth(0).fill("+1 415 555 0178")
    page.get_by_label("Application").nth(0).select_option(label="Acme Sales Assistant")
    page.get_by_label("Phone Number").nth(0).press("Enter")
    expect(page.get_by_text("Your Twilio SMS settings were saved.")).to_be_visible()
    settings_ready(page)
    assert domain_bindings(example_server, "Sales", "production") == [
        ("+14155550178", "Acme Sales Assistant")
    ]


def test_cancel_discards_edits_without_a_warning(
    context: t.Any, example_server: ExampleServer
) -> None:
    with example_server.app.app_context():
        domain = _domain(example_server, "Sales", "production")
        apps = {a.name: a.id for a in get_state().applications(domain)}
        replace_bindings(domain, [Pair("+14155550188", apps["Acme Sales Agent Helper"])])
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    open_settings(page, SALES)
    page.get_by_label("Phone Number").nth(0).fill("+14155550199")
    page.get_by_role("button", name="Add Number").click()
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", name="Integrations")).to_be_visible()
    assert dialogs == []
    page.get_by_role("link", name="Twilio SMS").click()
    settings_ready(page)
    expect(page.get_by_label("Phone Number")).to_have_count(1)
    expect(page.get_by_label("Phone Number").nth(0)).to_have_value("+14155550188")
    assert domain_bindings(example_server, "Sales", "production") == [
        ("+14155550188", "Acme Sales Agent Helper")
    ]


def test_leaving_with_unsaved_edits_warns(context: t.Any, example_server: ExampleServer) -> None:
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    open_settings(page, SALES)
    settings_url = page.url

    # Unchanged: leaving is silent.
    page.get_by_role("link", name="Integrations", exact=True).click()
    expect(page.get_by_role("heading", name="Integrations")).to_be_visible()
    assert dialogs == []
    page.go_back()
    expect(page.get_by_role("heading", name="Twilio SMS")).to_be_visible()

    page.get_by_role("button", name="Add Number").click()
    page.get_by_role("link", name="Domains").click()
    expect(page.get_by_role("heading", name="Twilio SMS")).to_be_visible()
    assert dialogs == ["beforeunload"]
    assert page.url == settings_url

    # Undoing the edit makes leaving silent again.
    page.get_by_role("button", name="Delete", exact=True).last.click()
    page.get_by_role("link", name="Domains").click()
    expect(page.get_by_role("heading", name="IA Domains")).to_be_visible()
    assert dialogs == ["beforeunload"]


def test_copy_request_and_fallback_urls(context: t.Any, example_server: ExampleServer) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=example_server.url)
    page = context.new_page()
    open_settings(page, PRODUCTION_CARE)
    with example_server.app.test_request_context(base_url=example_server.url):
        integration = create_integration(_domain(example_server, "Customer Care", "production"))
        urls = webhook_urls(integration)
    assert urls.request_url.startswith(example_server.url + "/xsms/hooks/")
    # The URLs lead to this domain's webhooks.
    adapter = example_server.app.url_map.bind(example_server.url.split("//")[1])
    for url, endpoint in ((urls.request_url, "inbound"), (urls.fallback_url, "fallback")):
        path = url.removeprefix(example_server.url)
        assert adapter.match(path, method="POST") == (
            f"xsms_webhooks.{endpoint}",
            {"webhook_id": integration.webhook_id},
        )

    request_url = page.get_by_label("Request URL", exact=True)
    fallback_url = page.get_by_label("Fallback URL", exact=True)
    expect(request_url).to_have_value(urls.request_url)
    expect(request_url).to_have_attribute("readonly", "")
    expect(fallback_url).to_have_value(urls.fallback_url)
    expect(page.get_by_label("Status callback URL")).to_be_hidden()
    page.get_by_text("Advanced").click()
    expect(page.get_by_label("Status callback URL")).to_have_value(urls.status_callback_url)

    # The button says "Copied" for a moment after a click.
    copy_buttons = page.get_by_role("button", name=re.compile("^(Copy|Copied)$"))
    expect(copy_buttons.nth(0)).to_have_text("Copy")
    copy_buttons.nth(0).click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="copied")).to_have_text(
        "Request URL copied to the clipboard."
    )
    assert page.evaluate("navigator.clipboard.readText()") == urls.request_url

    copy_buttons.nth(1).click()
    assert page.evaluate("navigator.clipboard.readText()") == urls.fallback_url


def test_copy_falls_back_without_the_clipboard_api(
    context: t.Any, example_server: ExampleServer
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=example_server.url)
    page = context.new_page()
    # As in a browser or page where navigator.clipboard is missing.
    page.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    open_settings(page, PRODUCTION_CARE)
    page.get_by_role("button", name="Copy", exact=True).nth(1).click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    selected = page.evaluate("document.activeElement.id")
    assert selected == "xsms-fallback-url"


HELPDESK = "Integrations of Helpdesk (Globex, production)"
WIDTHS = {"phone": 390, "desktop": 1280}


def bind_helpdesk(server: ExampleServer) -> None:
    """A saved number on Globex's Helpdesk, which the other tests leave alone."""
    with server.app.app_context():
        domain = _domain(server, "Helpdesk", "production")
        (app,) = [a for a in get_state().applications(domain) if a.channel_type]
        replace_bindings(domain, [Pair("+14155550900", app.id)])


def in_viewport(page: Page, box: dict[str, float] | None) -> bool:
    size = page.viewport_size
    assert box is not None and size is not None
    return box["y"] >= 0 and box["y"] + box["height"] <= size["height"] + 0.5


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_on_demo_credentials_the_page_says_twilio_checks_are_off(
    context: t.Any, example_server: ExampleServer, width: int
) -> None:
    bind_helpdesk(example_server)
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    open_settings(page, HELPDESK)
    expect(page.get_by_label("Phone Number")).to_have_value("+14155550900")
    off = page.locator("[data-xsms-twilio-off]")
    expect(off.get_by_role("heading", name="Twilio checks are off")).to_be_visible()
    expect(off).to_contain_text("XSMS_TWILIO_CHECKS is off")
    expect(page.get_by_role("button", name="Check in Twilio")).to_have_count(0)
    expect(page.get_by_role("button", name="Configure in Twilio")).to_have_count(0)
    expect(page.get_by_text("Couldn't check")).to_have_count(0)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / f"settings-checks-off-{width}.png"), full_page=True)
    off.get_by_role("link", name="SMS simulator").click()
    expect(page.get_by_role("heading", name="SMS simulator")).to_be_visible()
    expect(page.get_by_label("Twilio number")).to_have_value("+14155550900")


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_the_test_webhook_answer_shows_beside_its_button(
    context: t.Any, example_server: ExampleServer, width: int
) -> None:
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 800})
    open_settings(page, HELPDESK)
    button = page.get_by_role("button", name="Test webhook")
    button.click()
    with example_server.app.test_request_context(base_url=example_server.url):
        integration = create_integration(_domain(example_server, "Helpdesk", "production"))
        request_url = webhook_urls(integration).request_url
    answer = page.get_by_role("status").filter(has_text="validates")
    expect(answer).to_have_text(f"The Request URL {request_url} validates Twilio's signature.")
    expect(answer).to_be_visible()
    # In view, just under the button; the page did not reload to its top.
    below, box = button.bounding_box(), answer.bounding_box()
    assert in_viewport(page, box) and in_viewport(page, below)
    assert below and box and 0 <= box["y"] - (below["y"] + below["height"]) < 100
    expect(page.get_by_role("heading", name="Check the webhook")).to_be_in_viewport()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / f"settings-test-webhook-{width}.png"))

    # An expired page is told so in the same place.
    page.evaluate(
        "document.querySelector('[data-xsms-webhook-test] [name=csrf_token]').value = 'stale'"
    )
    button.click()
    expect(page.get_by_role("status").filter(has_text="expired")).to_contain_text(
        "This form has expired. Nothing was tested: reload the page and try again."
    )


@pytest.mark.parametrize(("in_ci", "outcome"), [(False, "skip"), (True, "fail")])
def test_a_missing_chromium_skips_locally_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: t.Any, in_ci: bool, outcome: str
) -> None:
    from . import browser as fixtures

    # No /usr/bin/chromium and an empty PATH: as on a machine without the package.
    monkeypatch.setattr(fixtures, "DEBIAN_CHROMIUM", str(tmp_path / "chromium"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(fixtures, "IN_CI", in_ci)
    expected = pytest.skip.Exception if outcome == "skip" else pytest.fail.Exception
    with pytest.raises(expected) as info:
        fixtures.chromium_path()
    assert "chromium is not installed" in str(info.value)
