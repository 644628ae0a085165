"""Ingestion flows publish their progress in units of work, which the CLI's bar reads back from the API."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from tradeloom.deployments.cli_progress import FlowRunProgress
from tradeloom.flows.ingest import ingest_dukascopy, ingest_instrument
from tradeloom.flows.progress import UnitCount


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def progress_artifacts(flow_run_id: object) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterType

    with get_client(sync_client=True) as client:
        return client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]), type=ArtifactFilterType(any_=["progress"])))


def test_a_dukascopy_run_publishes_progress_per_day_reaching_100_percent(home: Path, fixtures: Path, monkeypatch):
    monkeypatch.setenv("TRADELOOM_DUKASCOPY_TICK_UNIT_DAYS", "1")
    source = FlowRunProgress()
    watched = ingest_dukascopy.with_options(on_running=[source.started])

    # Two days of ticks: two units (a day of hour files each); the mirror has three hours of the second.
    state = watched(symbols=["EURUSD"], timeframes=["tick"], start=utc(2019, 2, 3, 22), end=utc(2019, 2, 4, 3),
                    base_url=str(fixtures / "dukascopy" / "datafeed"), api="legacy", return_state=True)

    assert state.is_completed(), state.message
    assert [u["rows_added"] for u in state.result()["units"]] == [0, 3733]
    assert source.flow_run_id == state.state_details.flow_run_id
    assert source.read() == UnitCount(2, 2, "units")
    [artifact] = progress_artifacts(source.flow_run_id)
    assert (artifact.key, artifact.data, artifact.description) == ("ingest-dukascopy-progress", 100.0, "2/2 units")


def test_the_priority_flow_counts_the_units_of_every_source_it_tries(home: Path, fixtures: Path, tmp_path: Path,
                                                                     vendor, monkeypatch):
    # Dukascopy answers 404 (no data) for its one yearly unit; Yahoo, next, delivers its one unit.
    mirror = tmp_path / "yahoo" / "v8" / "finance" / "chart"
    mirror.mkdir(parents=True)
    recorded = json.loads((fixtures / "yahoo" / "node-yahoo-finance2" / "chart-EURUSD=X-2020-01-01-to-2020-01-03.json").read_text())
    (mirror / "EURUSD=X").write_text(recorded["response"].get("bodyJson") and json.dumps(recorded["response"]["bodyJson"])
                                     or recorded["response"]["body"])
    monkeypatch.setenv("TRADELOOM_DUKASCOPY_API", "legacy")
    monkeypatch.setenv("TRADELOOM_DUKASCOPY_LEGACY_URL", vendor.url)
    monkeypatch.setenv("TRADELOOM_YAHOO_URL", str(tmp_path / "yahoo"))
    source = FlowRunProgress()
    watched = ingest_instrument.with_options(on_running=[source.started])

    state = watched(symbol="EURUSD", timeframe="1d", start=utc(2020, 1, 1), end=utc(2020, 1, 4),
                    sources=["dukascopy", "yahoo"], return_state=True)

    assert state.is_completed(), state.message
    assert [(u["source"], u["rows_added"]) for u in state.result()["units"]] == [("yahoo", 3)]
    assert source.read() == UnitCount(2, 2, "units")
