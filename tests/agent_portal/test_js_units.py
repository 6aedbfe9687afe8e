"""The tablet's pure JavaScript helpers (agent_portal/static/js/lib) under `node --test`, run from the
Python suite so `make test` runs them. Skipped, saying why, only when Node is missing outside CI."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "agent_portal" / "static" / "tests"


def test_the_tablet_helpers_pass_their_node_tests():
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but node is not installed: the tablet's JavaScript unit tests cannot run")
        pytest.skip("node is not installed (Node 20+ runs agent_portal/static/tests/ with node --test)")
    assert sorted(p.name for p in TESTS.glob("*.test.mjs")), "no JavaScript unit tests found"
    result = subprocess.run([node, "--test", str(TESTS) + "/"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, f"node --test failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
    assert "# fail 0" in result.stdout
