"""The built docs in Chromium: phone-sized code blocks and screenshots, both color schemes,
nothing loaded from the network."""
from __future__ import annotations

import pathlib
import subprocess
import sys
import typing as t

import pytest

from .browser import browser_fixture
from .browser import OUTPUT_DIR

pytestmark = pytest.mark.browser
browser = browser_fixture

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
PHONE = {"width": 390, "height": 800}
DESKTOP = {"width": 1280, "height": 900}

#: WCAG's contrast ratio of an element's text on the first opaque background behind it.
CONTRAST = """element => {
    const rgb = value => value.match(/[\\d.]+/g).map(Number);
    const luminance = ([r, g, b]) => {
        const [R, G, B] = [r, g, b].map(c => {
            c /= 255;
            return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
        });
        return 0.2126 * R + 0.7152 * G + 0.0722 * B;
    };
    let node = element, background = null;
    while (node && !background) {
        const color = rgb(getComputedStyle(node).backgroundColor);
        if (color.length === 3 || color[3] > 0) background = color.slice(0, 3);
        node = node.parentElement;
    }
    background = background || [255, 255, 255];
    const [light, dark] = [luminance(rgb(getComputedStyle(element).color)), luminance(background)]
        .sort((a, b) => b - a);
    return (light + 0.05) / (dark + 0.05);
}"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("docs-html")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", "html", str(DOCS), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return out


def open_page(browser: t.Any, built: pathlib.Path, name: str, **options: t.Any) -> t.Any:
    """A built page, failing the test if it asks anything of the network."""
    page = browser.new_page(**options)
    remote: list[str] = []
    page.on("request", lambda request: remote.append(request.url))
    page.goto((built / f"{name}.html").as_uri())
    page.wait_for_load_state("load")
    assert [url for url in remote if not url.startswith(("file:", "data:"))] == []
    return page


@pytest.mark.parametrize("page_name", ["quickstart", "deployment", "conversations"])
def test_code_blocks_fit_a_phone(browser: t.Any, built: pathlib.Path, page_name: str) -> None:
    page = open_page(browser, built, page_name, viewport=PHONE)
    blocks = page.locator("div.highlight pre")
    assert blocks.count() > 0
    cut = page.evaluate(
        "Array.from(document.querySelectorAll('div.highlight pre'))"
        ".filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent.slice(0, 60))"
    )
    assert cut == []  # nothing hidden to the right of a code block
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / f"docs-{page_name}-390-full.png"), full_page=True)
    page.close()


@pytest.mark.parametrize("page_name", ["conversations", "twilio_setup"])
def test_screenshots_show_whole_on_a_phone(browser: t.Any, built: pathlib.Path, page_name: str) -> None:
    page = open_page(browser, built, page_name, viewport=PHONE)
    images = page.evaluate(
        """Array.from(document.querySelectorAll('article img')).map(img => {
            const box = img.getBoundingClientRect();
            return {src: img.getAttribute('src'), loaded: img.complete && img.naturalWidth > 0,
                    left: box.left, right: box.right, height: box.height};
        })"""
    )
    assert images, f"{page_name} shows no screenshot"
    width = page.evaluate("document.documentElement.clientWidth")
    for image in images:
        assert image["loaded"], image["src"]
        assert image["height"] > 50, image["src"]  # shown, not squashed
        assert 0 <= image["left"] and image["right"] <= width, image["src"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
    page.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_title_and_text_are_readable_in_both_schemes(
    browser: t.Any, built: pathlib.Path, scheme: str
) -> None:
    page = open_page(browser, built, "index", viewport=DESKTOP, color_scheme=scheme)
    title = page.locator(".sidebar-brand-text")
    assert title.inner_text().strip() == "flask-xsms"
    for element in [
        title,
        page.locator("article p").first,
        page.locator("article a.reference.internal").first,
    ]:
        assert element.evaluate(CONTRAST) >= 4.5, (scheme, element)
    page.close()


@pytest.mark.parametrize("page_name", ["index", "deployment"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
def test_pages_render_at_phone_and_desktop_widths(
    browser: t.Any, built: pathlib.Path, page_name: str, viewport: dict[str, int]
) -> None:
    page = open_page(browser, built, page_name, viewport=viewport)
    assert page.locator("article h1").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / f"docs-{page_name}-{viewport['width']}.png"))
    page.close()
