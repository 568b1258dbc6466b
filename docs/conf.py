import importlib.metadata

project = "flask-xsms"
copyright = "2026, X-Platform"
release = importlib.metadata.version("flask-xsms")
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
intersphinx_mapping = {}
html_theme = "alabaster"
html_static_path = ["_static"]  # alabaster links _static/custom.css
exclude_patterns = ["_build"]
suppress_warnings = ["myst.header"]
