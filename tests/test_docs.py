"""The documentation builds without a single warning."""
from __future__ import annotations

import pathlib
import subprocess
import sys

DOCS = pathlib.Path(__file__).parent.parent / "docs"


def test_docs_build_with_warnings_as_errors(tmp_path: pathlib.Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "config.html").exists()
