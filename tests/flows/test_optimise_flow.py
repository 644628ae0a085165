"""The optimiser under Prefect on a local Dask cluster: a small grid, and a short evolution saved with its lineage."""

from __future__ import annotations

import json
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from tests.flows.test_backtest_flows import write_bars
from tests.trading.optimiser.series import random_walk
from tradeloom.flows.backtest import backtest
from tradeloom.flows.optimise import optimise


def test_a_small_grid_runs_each_backtest_as_a_task_on_a_local_dask_cluster(home, tmp_path):
    data = write_bars(random_walk(600, seed=7), tmp_path / "walk.parquet")

    state = optimise(strategy="sma_cross", symbol="TEST", timeframe="1h", data=str(data), method="grid",
                     grid=["fast=5,10", "slow=20,40"], metric="sharpe", folds=2, in_sample_ratio=0.6,
                     dask_processes=False, return_state=True)

    out = state.result()
    assert out["evaluated"] == 4 and out["generations"] == 1
    # out-of-sample length floor(600 / (2 + 0.6/0.4)) = 171, in-sample 600 - 2*171 = 258
    assert out["splits"] == [{"fold": 0, "in_start": 0, "in_end": 258, "out_end": 429, "out_start": 258},
                             {"fold": 1, "in_start": 171, "in_end": 429, "out_end": 600, "out_start": 429}]
    best = out["best"][0]
    assert best["candidate"]["params"] in [{"fast": f, "slow": s} for f in (5, 10) for s in (20, 40)]
    assert best["evaluation"]["fitness"] == sum(best["evaluation"]["out_of_sample"]) / 2
    assert [row["fold"] for row in out["walk_forward"]] == [0, 1]
    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs()
        parents = {t.id for t in tasks if t.flow_run_id == state.state_details.flow_run_id}
        evolve_run = [r for r in client.read_flow_runs() if r.parent_task_run_id in parents]
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["optimise"])))
    assert [r.state_type.value for r in evolve_run] == ["COMPLETED"]  # the evolve subflow ran on the Dask runner
    evaluated = [t for t in tasks if t.name.startswith("evaluate-candidate") and t.flow_run_id == evolve_run[0].id]
    assert len(evaluated) == 4 and all(t.state_type.value == "COMPLETED" for t in evaluated)
    assert any("Optimiser (grid, fitness: mean out-of-sample sharpe)" in a.data for a in artifacts)


def test_evolution_saves_the_best_with_its_lineage_and_the_backtester_loads_it_by_name(home, tmp_path):
    data = write_bars(random_walk(500, seed=3), tmp_path / "walk.csv")

    out = optimise(strategy="rules", symbol="TEST", timeframe="1h", data=str(data), method="genetic",
                   generations=1, population=4, seed=2, metric="total_return", folds=2, in_sample_ratio=0.6,
                   save_as="evolved", dask_processes=False)

    assert out["saved"] == [str(home / "strategies" / "evolved.json")]
    stored = json.loads(Path(out["saved"][0]).read_text())
    assert stored["strategy"] == "rules" and stored["lineage"] == out["best"][0]["lineage"]
    assert stored["lineage"][0]["generation"] == 0

    summary = backtest(strategy="evolved", symbol="TEST", timeframe="1h", data=str(data))
    assert summary["strategy"] == "evolved" and summary["base_strategy"] == "rules"
    assert summary["params"] == json.loads(json.dumps(stored["params"])) | summary["params"]
    assert summary["trades"] == out["best"][0]["evaluation"]["trades"]
    assert summary["final_equity"] == out["best"][0]["evaluation"]["final_equity"]


def test_the_default_runner_is_a_two_worker_local_cluster_and_an_address_scales_out():
    from tradeloom.flows.optimise import dask_runner

    local = dask_runner(None, 2, api_url="http://127.0.0.1:4200/api")
    assert local.cluster_class == "distributed.LocalCluster" or local.cluster_class.__name__ == "LocalCluster"
    assert local.cluster_kwargs["n_workers"] == 2 and local.cluster_kwargs["processes"] is True
    assert local.cluster_kwargs["env"] == {"PREFECT_API_URL": "http://127.0.0.1:4200/api"}  # workers report to the same API
    remote = dask_runner("tcp://10.0.0.5:8786", 2)
    assert remote.address == "tcp://10.0.0.5:8786"
