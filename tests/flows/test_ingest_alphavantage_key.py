"""The Alpha Vantage key: resolved once by the flow (Secret block, else the setting), never a parameter or a log line."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.vendor_http import Reply, VendorServer
from tradeloom.data.store import MarketStore
from tradeloom.flows.ingest import ingest_alphavantage, ingest_instrument
from tradeloom.flows.sample import SAMPLE_DIR

ENV_KEY = "ENVKEY0123456789"
BLOCK_KEY = "BLOCKKEY98765432"
IBM_DAILY = (SAMPLE_DIR / "alphavantage" / "query").read_bytes()


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def run_texts(flow_run_id: object) -> list[str]:
    """Every log message, artifact and task-run parameter record of one flow run."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId

    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
        task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
        flow_run = client.read_flow_run(flow_run_id)
    return ([log.message for log in logs] + [str(a.data) + str(a.description) for a in artifacts]
            + [t.model_dump_json() for t in task_runs] + [flow_run.model_dump_json()])


@pytest.fixture
def alphavantage(vendor: VendorServer, monkeypatch: pytest.MonkeyPatch) -> VendorServer:
    vendor.route("/query", Reply(200, IBM_DAILY, {"Content-Type": "application/json"}))
    monkeypatch.setenv("TRADELOOM_ALPHAVANTAGE_URL", vendor.url)
    monkeypatch.setenv("TRADELOOM_ALPHAVANTAGE_KEY_BLOCK", "tradeloom-test-no-such-block")
    return vendor


def test_the_key_from_the_environment_reaches_the_vendor_and_nothing_else(home: Path, alphavantage, monkeypatch):
    monkeypatch.setenv("TRADELOOM_ALPHAVANTAGE_API_KEY", ENV_KEY)

    state = ingest_alphavantage(symbols=["IBM"], timeframes=["1d"], start=utc(2020, 5, 7), end=utc(2020, 5, 9),
                                return_state=True)

    assert state.is_completed(), state.message
    assert [u["rows_added"] for u in state.result()["units"]] == [2]
    assert [r.query.get("apikey") for r in alphavantage.requests] == [ENV_KEY]
    assert len(MarketStore(home / "market.duckdb").bars("IBM", "1d")) == 2
    texts = run_texts(state.state_details.flow_run_id)
    assert texts and not [t for t in texts if ENV_KEY in t]


def test_a_secret_block_wins_over_the_environment(home: Path, alphavantage, monkeypatch):
    from prefect.blocks.system import Secret

    Secret(value=BLOCK_KEY).save("tradeloom-test-alphavantage-key", overwrite=True)
    monkeypatch.setenv("TRADELOOM_ALPHAVANTAGE_KEY_BLOCK", "tradeloom-test-alphavantage-key")
    monkeypatch.setenv("TRADELOOM_ALPHAVANTAGE_API_KEY", ENV_KEY)

    result = ingest_alphavantage(symbols=["IBM"], timeframes=["1d"], start=utc(2020, 5, 7), end=utc(2020, 5, 9))

    assert result["ok"] and [r.query.get("apikey") for r in alphavantage.requests] == [BLOCK_KEY]


def test_without_a_key_the_unit_fails_naming_where_to_put_one_and_nothing_is_called(home: Path, alphavantage, monkeypatch):
    monkeypatch.delenv("TRADELOOM_ALPHAVANTAGE_API_KEY", raising=False)

    state = ingest_alphavantage(symbols=["IBM"], timeframes=["1d"], start=utc(2020, 5, 7), end=utc(2020, 5, 9),
                                return_state=True)

    assert state.is_failed()
    message = state.message or str(state.result(raise_on_failure=False))
    assert ("failed: AuthError: no Alpha Vantage API key: create the Prefect Secret block "
            "'tradeloom-test-no-such-block' or set TRADELOOM_ALPHAVANTAGE_API_KEY") in message
    assert alphavantage.requests == []


def test_the_priority_flow_skips_alphavantage_without_a_key_and_says_why(home: Path, alphavantage, monkeypatch):
    monkeypatch.delenv("TRADELOOM_ALPHAVANTAGE_API_KEY", raising=False)

    state = ingest_instrument(symbol="IBM", timeframe="1d", start=utc(2020, 5, 7), end=utc(2020, 5, 9),
                              sources=["alphavantage"], return_state=True)

    assert state.is_failed()
    message = state.message or str(state.result(raise_on_failure=False))
    assert "alphavantage: cannot be used: AuthError: no Alpha Vantage API key" in message
    assert alphavantage.requests == []
