"""The reference pages name everything public: config keys, signals, CLI commands, API.

These tests fail when something is added to the code but not to the docs.
"""
from __future__ import annotations

import importlib
import re
import typing as t
from pathlib import Path

import click
import pytest
from blinker import NamedSignal

import flask_xsms
from flask_xsms import signals
from flask_xsms._cli import xsms_cli
from flask_xsms._config import DEFAULTS
from flask_xsms._config import PREFIX

DOCS = Path(__file__).resolve().parent.parent / "docs"
AUTODOC = re.compile(r"^\.\. auto(?:class|function|data|exception|module)::\s*(\S+)", re.M)


def read(page: str) -> str:
    return (DOCS / page).read_text(encoding="utf-8")


def data_entries(text: str) -> dict[str, str]:
    """``.. data:: NAME`` entries of a page, each with its indented body."""
    entries: dict[str, str] = {}
    for match in re.finditer(r"^\.\. data:: (\S+)\n((?:[ \t]+.*\n|\n)*)", text, re.M):
        entries[match.group(1)] = " ".join(match.group(2).split())
    return entries


def documented_default(value: t.Any) -> str:
    """How a default value is written in ``docs/config.rst``."""
    if isinstance(value, str):
        return f'``"{value}"``'
    return f"``{value!r}``"


def all_signals() -> dict[str, NamedSignal]:
    return {name: s for name, s in vars(signals).items() if isinstance(s, NamedSignal)}


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[str]:
    paths = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, (*prefix, name)))
        else:
            paths.append(" ".join((*prefix, name)))
    return paths


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_every_config_key_has_an_entry_with_its_default(key: str) -> None:
    entries = data_entries(read("config.rst"))
    name = PREFIX + key
    assert name in entries, f"docs/config.rst has no '.. data:: {name}' entry"
    body = entries[name]
    assert "Default" in body, f"the entry of {name} does not give its default"
    assert documented_default(DEFAULTS[key]) in body or (
        isinstance(DEFAULTS[key], int) and f"``{DEFAULTS[key]}``" in body
    ), f"the entry of {name} does not show the default {DEFAULTS[key]!r}"


def test_config_page_documents_no_unknown_key() -> None:
    documented = set(data_entries(read("config.rst")))
    assert documented <= {PREFIX + key for key in DEFAULTS}


def test_there_are_signals_to_check() -> None:
    assert {"message_received", "numbers_saved", "delivery_status_changed"} <= set(all_signals())


@pytest.mark.parametrize("name", sorted(all_signals()))
def test_every_signal_is_in_the_signals_page_and_the_api(name: str) -> None:
    assert f":data:`~flask_xsms.signals.{name}`" in read("signals.rst"), (
        f"docs/signals.rst does not describe {name}"
    )
    assert f"flask_xsms.signals.{name}" in AUTODOC.findall(read("api.rst")), (
        f"docs/api.rst has no autodata entry for flask_xsms.signals.{name}"
    )


def test_there_are_commands_to_check() -> None:
    assert {"create-tables", "numbers", "db upgrade"} <= set(command_paths(xsms_cli))


@pytest.mark.parametrize("path", command_paths(xsms_cli))
def test_every_cli_command_is_in_the_cli_page(path: str) -> None:
    assert f"``flask xsms {path}" in read("cli.rst"), (
        f"docs/cli.rst does not describe 'flask xsms {path}'"
    )


def resolve(target: str) -> t.Any:
    """The object an autodoc target names (relative to ``flask_xsms`` when undotted)."""
    dotted = target if "." in target else f"flask_xsms.{target}"
    module_name, _, attribute = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except ImportError:
        outer, _, owner = module_name.rpartition(".")
        return getattr(getattr(importlib.import_module(outer), owner), attribute)


#: The modules whose ``__all__`` is public, besides the package itself.
PUBLIC_MODULES = (
    "flask_xsms.celery_tasks",
    "flask_xsms.conversations",
    "flask_xsms.errors",
    "flask_xsms.integrations",
    "flask_xsms.media",
    "flask_xsms.migrate",
    "flask_xsms.models",
    "flask_xsms.numbers",
    "flask_xsms.outbound",
    "flask_xsms.segments",
    "flask_xsms.signals",
    "flask_xsms.statuses",
    "flask_xsms.testing",
    "flask_xsms.twilio_setup",
    "flask_xsms.whatsapp",
)
#: Public modules with nothing to import: the pytest plugin.
ENTRY_POINTS = ("flask_xsms.pytest_plugin",)
PACKAGE = Path(flask_xsms.__file__).parent


def documented() -> list[tuple[str, t.Any]]:
    """Each autodoc target of the API page with the object it names."""
    return [(target, resolve(target)) for target in AUTODOC.findall(read("api.rst"))]


def public_names() -> list[tuple[str, str]]:
    """``(module, name)`` of everything public: the package's names and the ``__all__``
    of the public modules."""
    names = [("flask_xsms", name) for name in flask_xsms.__all__]
    for module in PUBLIC_MODULES:
        names += [(module, name) for name in importlib.import_module(module).__all__]
    return names


@pytest.mark.parametrize(("module", "name"), public_names())
def test_every_public_name_is_in_the_api_page(module: str, name: str) -> None:
    public = getattr(importlib.import_module(module), name)
    targets = AUTODOC.findall(read("api.rst"))
    if isinstance(public, type(flask_xsms)):  # a module: documented through its members
        assert any(target.startswith(f"{public.__name__}.") for target in targets), (
            f"docs/api.rst documents nothing of {public.__name__}"
        )
        return
    assert any(
        target.rpartition(".")[2] == name and resolve(target) is public for target in targets
    ), f"docs/api.rst has no autodoc entry for {module}.{name}"


@pytest.mark.parametrize("target", AUTODOC.findall(read("api.rst")))
def test_every_name_in_the_api_page_is_public(target: str) -> None:
    dotted = target if "." in target else f"flask_xsms.{target}"
    if dotted in PUBLIC_MODULES:  # an automodule entry
        return
    module, _, name = dotted.rpartition(".")
    assert not any(part.startswith("_") for part in dotted.split(".")), (
        f"docs/api.rst documents the private {dotted}"
    )
    assert module == "flask_xsms" or module in PUBLIC_MODULES, (
        f"docs/api.rst documents {dotted}, but {module} is not a public module"
    )
    exported = importlib.import_module(module).__all__
    assert name in exported, f"docs/api.rst documents {dotted}, which is not in {module}.__all__"


def test_every_module_is_public_or_private_by_name() -> None:
    modules = {
        "flask_xsms." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        for path in PACKAGE.glob("*.py")
        if path.name != "__init__.py"
    } | {"flask_xsms." + path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    unmarked = {
        m
        for m in modules
        if not m.rpartition(".")[2].startswith("_")
        and m not in PUBLIC_MODULES + ENTRY_POINTS
        and not m.endswith(".migrations")
    }
    assert not unmarked, f"neither public nor private by name: {sorted(unmarked)}"
    for module in PUBLIC_MODULES:
        exported = importlib.import_module(module).__all__
        assert len(set(exported)) == len(exported), f"{module}.__all__ repeats a name"
