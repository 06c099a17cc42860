"""The hub and the sandbox platform as two real HTTP servers on loopback (the kit's stack)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.testing.stack import ID_BOUTIQUE, Stack, free_port, live_stack

__all__ = ["ID_BOUTIQUE", "Stack", "free_port"]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with live_stack(tmp_path) as served:
        yield served
