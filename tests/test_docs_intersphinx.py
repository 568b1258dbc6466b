"""The inventories that link the docs to other libraries: offline, readable, reproducible."""
from __future__ import annotations

import importlib.util
import pathlib
import runpy
import subprocess
import sys
import types
import zlib

import pytest
from sphinx.util.inventory import InventoryFile

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
INVENTORIES = DOCS / "_inventories"


def load_script() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("inventories_build", INVENTORIES / "build.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script  # dataclasses look their module up while the class is made
    spec.loader.exec_module(script)
    return script


BUILD = load_script()
MAPPING = runpy.run_path(str(DOCS / "conf.py"))["intersphinx_mapping"]


def content(data: bytes) -> tuple[bytes, bytes]:
    """An inventory's header and its decompressed object lines."""
    head = data.split(b"\n", 4)
    return b"\n".join(head[:4]), zlib.decompress(head[4])


def test_every_inventory_is_a_file_of_the_repository() -> None:
    assert set(MAPPING) == set(BUILD.INVENTORIES)
    for key, (target, location) in MAPPING.items():
        assert target.startswith("https://") and target.endswith("/")
        assert location == f"_inventories/{key}.inv"  # a path: nothing is fetched
        assert (DOCS / location).is_file()


def test_the_script_writes_the_committed_files_again(tmp_path: pathlib.Path) -> None:
    result = subprocess.run(
        [sys.executable, str(INVENTORIES / "build.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == sorted(path.name for path in INVENTORIES.glob("*.inv"))
    for name in written:
        # Compared uncompressed: another zlib build may pack the same lines differently.
        assert content((tmp_path / name).read_bytes()) == content((INVENTORIES / name).read_bytes()), (
            f"docs/_inventories/{name} is not what build.py writes: run it and commit the result"
        )


@pytest.mark.parametrize("key", sorted(BUILD.INVENTORIES))
def test_sphinx_reads_every_object_back(key: str) -> None:
    target, location = MAPPING[key]
    inventory = InventoryFile.loads((DOCS / location).read_bytes(), uri=target).data
    expected = BUILD.INVENTORIES[key]
    assert {(role, name) for name, role, _ in expected.objects} == {
        (role, name) for role, names in inventory.items() for name in names
    }
    for name, role, uri in expected.objects:
        item = inventory[role][name]
        assert item.uri == target + uri
        assert item.project_name == expected.project


def test_the_intersphinx_command_prints_an_inventory() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sphinx.ext.intersphinx", str(INVENTORIES / "flask.inv")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "flask.Flask" in result.stdout
    assert "api/#flask.Flask" in result.stdout
