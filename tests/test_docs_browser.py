"""The built docs on a phone: code blocks wrap instead of running off the page."""
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


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("docs-html")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", "html", str(DOCS), str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.parametrize("page_name", ["quickstart", "deployment", "conversations"])
def test_code_blocks_fit_a_phone(browser: t.Any, built: pathlib.Path, page_name: str) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto((built / f"{page_name}.html").as_uri())
    blocks = page.locator("div.highlight pre")
    assert blocks.count() > 0
    cut = page.evaluate(
        "Array.from(document.querySelectorAll('div.highlight pre'))"
        ".filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent.slice(0, 60))"
    )
    assert cut == []  # nothing hidden to the right of a code block
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / f"docs-{page_name}-390.png"), full_page=True)
    page.close()
