"""The live test's pretix installs: old ones are deleted, the one in use and fresh ones kept.

Folders stand in for installs: the pruning reads only their names and times,
so no pretix is installed here.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.e2e.pretix_live import UNUSED_FOR, prune_installs

DAY = UNUSED_FOR.total_seconds()


def install(cache: Path, name: str, used_seconds_ago: float | None, now: float) -> Path:
    """An install folder whose last run was that long ago (None: never stamped, the
    folder itself that old, as an interrupted install leaves it)."""
    folder = cache / name
    (folder / "venv").mkdir(parents=True)
    stamp = folder / "used" if used_seconds_ago is not None else folder
    if used_seconds_ago is not None:
        stamp.touch()
    age = used_seconds_ago if used_seconds_ago is not None else 3 * DAY
    os.utime(stamp, (now - age, now - age))
    return folder


def test_installs_unused_for_a_day_are_deleted_and_the_rest_kept(tmp_path: Path) -> None:
    now = time.time()
    current = install(tmp_path, "pretix-2026.8.0-plugin-aaaaaaaaaaaa", 5 * DAY, now)
    old_plugin = install(tmp_path, "pretix-2026.8.0-plugin-bbbbbbbbbbbb", 2 * DAY, now)
    old_pretix = install(tmp_path, "pretix-2026.2.0-plugin-cccccccccccc", None, now)
    in_use_elsewhere = install(tmp_path, "pretix-2026.8.0-plugin-dddddddddddd", 600, now)
    other = tmp_path / "woocommerce-9.0"
    other.mkdir()
    os.utime(other, (now - 9 * DAY, now - 9 * DAY))
    (tmp_path / "pretix.lock").touch()

    deleted = prune_installs(tmp_path, keep=current, now=now)

    assert deleted == [old_pretix, old_plugin]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [current.name, in_use_elsewhere.name, other.name, "pretix.lock"]
    )


def test_nothing_to_prune_deletes_nothing(tmp_path: Path) -> None:
    current = install(tmp_path, "pretix-2026.8.0-plugin-aaaaaaaaaaaa", 0, time.time())

    assert prune_installs(tmp_path, keep=current) == []
    assert current.exists()
