"""How the suite shares its two CPUs (`make test` runs pytest-xdist with `--dist loadgroup`).

Tests that share a world (a module's or a package's fixtures: a synced lake, a built warehouse) run in one worker,
so the world is built once: the group of a test is its module, or its package where the package's fixtures build
a world for all its modules, or the test (or its function) alone in a long module whose tests share no world.
(The scheduler below reads the group from the test's path: pytest 9.2 no longer lets xdist carry an
`xdist_group` marker's name to the controller.) Groups are handed out longest first, by the seconds
each took in the last measured run (`durations.json` beside this file, written by `benchmarks/suite_time.py`),
and a worker takes its next group only as it finishes the last, so no long group waits queued behind another.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

HERE = Path(__file__).parent
DURATIONS = HERE / "durations.json"
# Packages whose fixtures build a world their modules share: the report's seven-day backfill.
PACKAGE_WORLDS = {"mida_pipeline_tests/report"}
# Long modules whose tests share no module world (only session fixtures, built once per worker anyway): each test
# function, or each test, is a group of its own, so the two CPUs share the module.
SPLIT = {
    "mida_pipeline_tests/deploy/test_shared_instance.py": "test",  # a daemon and a database of its own each
    "mida_pipeline_tests/reliability/test_crash.py": "test",  # two lanes of kills each
    "mida_pipeline_tests/reliability/test_faults.py": "function",  # the fault rounds, the failing syncs, a refused key
}
# Groups that go last whatever their length: the secrets search reads what the rest of the reliability suite left.
LAST = ("mida_pipeline_tests/reliability/test_secrets.py",)
# A group not measured yet: as long as a typical one of its kind, so a new module of syncs is not started last.
UNMEASURED_HEAVY, UNMEASURED_LIGHT = 120.0, 0.1


def group_of(nodeid: str) -> str:
    module = nodeid.split("::", 1)[0]
    package = module.rsplit("/", 1)[0]
    if package in PACKAGE_WORLDS:
        return package
    if SPLIT.get(module) == "test":
        return nodeid
    if SPLIT.get(module) == "function":
        return nodeid.split("[", 1)[0]
    return module


def measured() -> dict[str, float]:
    return json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest group first (and LAST at the end); inside a group the collection order stays (each worker sorts the
    same way)."""
    from mida_pipeline_tests.kinds import HEAVY

    seconds = measured()
    members: dict[str, list[pytest.Item]] = {}
    for item in items:
        members.setdefault(group_of(item.nodeid), []).append(item)

    def cost(group: str) -> float:
        if group in seconds:
            return seconds[group]
        heavy = any(i.get_closest_marker(m) for i in members[group] for m in HEAVY)
        return UNMEASURED_HEAVY if heavy else UNMEASURED_LIGHT * len(members[group])

    order = sorted(members, key=lambda group: (group in LAST, -cost(group)))
    items[:] = [item for group in order for item in members[group]]


@pytest.hookimpl(optionalhook=True)  # a plain `pytest -p no:xdist` has no such hook
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class WorldScheduling(LoadScopeScheduling):
        """xdist's scheduling by scope, with a test's world for its scope, handing a worker one world at a time."""

        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

        def _reschedule(self, node) -> None:
            # A worker keeps its last test until it is sent more (it must know the next test to tear down the
            # right fixtures): the next group goes out when one test of the last is left, not two as in xdist.
            if not node.shutting_down and self.workqueue and self._pending_of(self.assigned_work[node]) > 1:
                return
            super()._reschedule(node)

    return WorldScheduling(config, log)
