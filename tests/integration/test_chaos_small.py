"""`make chaos CHAOS_SIZE=small` as a test: every injected fault recovered, nothing lost, no secret leaked.

Runs bench/chaos.py's scenarios (kill -9 of the operator, apiserver/etcd restarts, foreign edits of our
children, a lost leader lease, dependency flaps) against a control plane of its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.chaos import SCENARIOS, Outcome, run, table

pytestmark = pytest.mark.slow


async def test_chaos_small_recovers_everything_and_loses_nothing(tmp_path: Path) -> None:
    outcomes: list[Outcome] = await run("small", list(SCENARIOS), tmp_path, seed=10)
    report = table(outcomes) + "".join(f"\n  {o.scenario}: {p}" for o in outcomes for p in o.problems)
    assert [o.scenario for o in outcomes] == list(SCENARIOS)
    assert sum(o.faults for o in outcomes) > 0
    assert all(o.faults == o.recovered for o in outcomes), report
    assert sum(o.lost for o in outcomes) == 0, report
    assert sum(o.leaked for o in outcomes) == 0, report
    assert all(o.ok for o in outcomes), report
