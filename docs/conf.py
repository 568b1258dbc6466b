import importlib.metadata

project = "flask-xsms"
copyright = "2026, X-Platform"
release = importlib.metadata.version("flask-xsms")
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "myst_parser",
    "sphinx.ext.autosectionlabel",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
exclude_patterns = ["_build"]
# Every section can be linked as :ref:`page:Title` (the "start here" pages do); a title
# used twice on one page is no error.
autosectionlabel_prefix_document = True
suppress_warnings = ["myst.header", "autosectionlabel.*"]

# Links to the libraries the pages name. The builds run offline: each inventory is a
# file of the repository, written by _inventories/build.py with the real addresses.
intersphinx_mapping = {
    "python": ("https://docs.python.org/3/", "_inventories/python.inv"),
    "flask": ("https://flask.palletsprojects.com/en/stable/", "_inventories/flask.inv"),
    "werkzeug": ("https://werkzeug.palletsprojects.com/en/stable/", "_inventories/werkzeug.inv"),
    "flask_sqlalchemy": (
        "https://flask-sqlalchemy.readthedocs.io/en/stable/",
        "_inventories/flask_sqlalchemy.inv",
    ),
    "sqlalchemy": ("https://docs.sqlalchemy.org/en/20/", "_inventories/sqlalchemy.inv"),
    "celery": ("https://docs.celeryq.dev/en/stable/", "_inventories/celery.inv"),
    "blinker": ("https://blinker.readthedocs.io/en/stable/", "_inventories/blinker.inv"),
    "twilio": (
        "https://www.twilio.com/docs/libraries/reference/twilio-python/9.10.4/",
        "_inventories/twilio.inv",
    ),
    "phonenumbers": (
        "https://daviddrysdale.github.io/python-phonenumbers/",
        "_inventories/phonenumbers.inv",
    ),
    "pytest": ("https://docs.pytest.org/en/stable/", "_inventories/pytest.inv"),
}

html_theme = "furo"
html_title = project
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    # A blue that keeps a contrast of 4.5:1 or more on each scheme's background.
    "light_css_variables": {
        "color-brand-primary": "#1a5a96",
        "color-brand-content": "#1a5a96",
        "color-brand-visited": "#5b3d99",
    },
    "dark_css_variables": {
        "color-brand-primary": "#7cb7f0",
        "color-brand-content": "#7cb7f0",
        "color-brand-visited": "#b9a2f0",
    },
}

#: Names the code imports for type checking only: autodoc finds them unqualified.
QUALIFIED = {
    "Celery": "celery.Celery",
    "Flask": "flask.Flask",
    "Pagination": "flask_sqlalchemy.pagination.Pagination",
    "SQLAlchemy": "flask_sqlalchemy.SQLAlchemy",
    "Task": "celery.app.task.Task",
}


def qualify(app, env, node, contnode):
    """Give intersphinx (which runs next) the full name of such a reference."""
    if node.get("refdomain") == "py" and node["reftarget"] in QUALIFIED:
        node["reftarget"] = QUALIFIED[node["reftarget"]]


def setup(app):
    app.connect("missing-reference", qualify, priority=400)
