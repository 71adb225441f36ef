"""Integration tests: everything here runs against the real control plane (fixtures in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Everything under tests/integration needs the control plane: mark it so `-m "not integration"`
    # deselects it.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)
