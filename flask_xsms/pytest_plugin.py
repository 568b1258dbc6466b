"""The pytest plugin of flask-xsms: off until a project turns it on.

Installed through the ``pytest11`` entry point; it only registers the ini option
``xsms_fixtures``. Set it to ``true`` to get the fixtures of :mod:`flask_xsms.testing`.
"""
from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "xsms_fixtures",
        type="bool",
        default=False,
        help="Provide flask-xsms's test fixtures (sms): see flask_xsms.testing.",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getini("xsms_fixtures") and not config.pluginmanager.has_plugin(
        "flask_xsms.testing"
    ):
        from . import testing

        config.pluginmanager.register(testing, "flask_xsms.testing")
