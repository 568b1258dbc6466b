"""The documentation builds without a single warning, and the built pages link where they say."""
from __future__ import annotations

import html.parser
import pathlib
import subprocess
import sys

import pytest

DOCS = pathlib.Path(__file__).parent.parent / "docs"
START_PAGES = ["start_host", "start_chatbot", "start_operator"]
Build = tuple[pathlib.Path, subprocess.CompletedProcess[str]]


class Links(html.parser.HTMLParser):
    """The links of a page's article (the text, not the theme's navigation)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0  # > 0 inside <article>
        self.links: list[dict[str, str]] = []
        self.steps: list[list[dict[str, str]]] = []  # the links of each item of a top <ol>
        self.lists = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article":
            self.depth += 1
        if not self.depth:
            return
        if tag == "ol":
            self.lists += 1
        elif tag == "li" and self.lists == 1:
            self.steps.append([])
        elif tag == "a":
            link = {name: value or "" for name, value in attrs}
            self.links.append(link)
            if self.lists == 1 and self.steps:
                self.steps[-1].append(link)

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self.depth -= 1
        elif tag == "ol" and self.depth:
            self.lists -= 1


def links_of(built: pathlib.Path, page: str) -> Links:
    parser = Links()
    parser.feed((built / f"{page}.html").read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """One build for the module; with --keep-going the pages are written despite a warning."""
    out = tmp_path_factory.mktemp("docs-html")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    return out, result


@pytest.fixture(scope="module")
def built(build: Build) -> pathlib.Path:
    out, result = build
    assert (out / "index.html").exists(), result.stderr
    return out


def test_docs_build_with_warnings_as_errors(build: Build) -> None:
    out, result = build
    assert result.returncode == 0, result.stderr
    assert (out / "config.html").exists()


@pytest.mark.parametrize(
    ("page", "url"),
    [
        ("api", "https://flask.palletsprojects.com/en/stable/api/#flask.Flask"),
        ("api", "https://docs.sqlalchemy.org/en/20/orm/session_api.html#sqlalchemy.orm.Session"),
        ("api", "https://docs.celeryq.dev/en/stable/reference/celery.html#celery.Celery"),
        ("api", "https://docs.python.org/3/library/datetime.html#datetime.datetime"),
        (
            "host",
            "https://werkzeug.palletsprojects.com/en/stable/exceptions/#werkzeug.exceptions.Forbidden",
        ),
        (
            "deployment",
            (
                "https://werkzeug.palletsprojects.com/en/stable/middleware/proxy_fix/"
                "#werkzeug.middleware.proxy_fix.ProxyFix"
            ),
        ),
        (
            "database",
            "https://flask-sqlalchemy.readthedocs.io/en/stable/api/#flask_sqlalchemy.SQLAlchemy.session",
        ),
        ("signals", "https://blinker.readthedocs.io/en/stable/#blinker.Signal.connected_to"),
        ("signals", "https://flask.palletsprojects.com/en/stable/api/#flask.current_app"),
        (
            "webhooks",
            (
                "https://www.twilio.com/docs/libraries/reference/twilio-python/9.10.4/"
                "docs/source/_rst/twilio.html#twilio.request_validator.RequestValidator"
            ),
        ),
        ("troubleshooting", "https://daviddrysdale.github.io/python-phonenumbers/"),
        ("testing", "https://docs.pytest.org/en/stable/reference/reference.html#pytest.fixture"),
    ],
)
def test_names_of_other_libraries_link_to_their_docs(built: pathlib.Path, page: str, url: str) -> None:
    external = [a for a in links_of(built, page).links if "external" in a.get("class", "").split()]
    assert url in {a["href"] for a in external}, f"{page}.html has no link to {url}"


def test_the_index_opens_with_the_three_paths(built: pathlib.Path) -> None:
    links = links_of(built, "index").links
    hrefs = [a["href"] for a in links if "reference" in a.get("class", "").split()]
    assert hrefs[:3] == [f"{page}.html" for page in START_PAGES]
    assert "quickstart.html" in hrefs[3:]  # then the toctree, every page in it


@pytest.mark.parametrize("page", START_PAGES)
def test_each_path_is_a_few_steps_into_the_guide(built: pathlib.Path, page: str) -> None:
    steps = links_of(built, page).steps
    assert 5 <= len(steps) <= 8
    for number, links in enumerate(steps, start=1):
        internal = [a["href"] for a in links if "internal" in a.get("class", "").split()]
        assert internal, f"step {number} of {page} links to no page of the guide"
        for href in internal:
            target, _, anchor = href.partition("#")
            text = (built / target).read_text(encoding="utf-8")
            assert not anchor or f'id="{anchor}"' in text, href
