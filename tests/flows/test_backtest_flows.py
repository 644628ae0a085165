"""The backtest flow under Prefect: exact trades on the hand series, the ledger record, reports and the artifact."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from tests.trading.optimiser.series import hand_bars, random_walk
from tradeloom.flows.backtest import backtest
from tradeloom.trading.ledger import SqlLedger, default_ledger_url
from tradeloom.trading.strategies.base import Bars


def write_bars(bars: Bars, path: Path) -> Path:
    frame = pd.DataFrame({"ts": bars.ts, "open": bars.open, "high": bars.high, "low": bars.low, "close": bars.close,
                          "volume": bars.volume})
    frame.to_parquet(path) if path.suffix == ".parquet" else frame.to_csv(path, index=False)
    return path


def test_the_backtest_flow_records_the_run_writes_reports_and_publishes_the_artifact(home, tmp_path):
    data = write_bars(hand_bars(), tmp_path / "hand.parquet")

    summary = backtest(strategy="sma_cross", symbol="TEST", timeframe="1h", params={"fast": 2, "slow": 3},
                       cash=10_000, data=str(data))

    assert summary["trades"] == 2
    assert Decimal(summary["final_equity"]) == Decimal("10004.63096")
    assert summary["exits_by_reason"]["signal"] == 1 and summary["exits_by_reason"]["take_profit"] == 1
    assert Decimal(summary["metrics"]["fees"]) == Decimal("0.40904") and summary["metrics"]["trades"] == 2
    assert Path(summary["reports"]["png"]).read_bytes().startswith(b"\x89PNG")
    assert Path(summary["reports"]["png"]).parent == home / "reports"
    assert "Exits by reason" in Path(summary["reports"]["html"]).read_text()

    with SqlLedger(default_ledger_url(home)) as ledger:
        run = ledger.backtest_run(summary["run_id"])
    assert run is not None and run.strategy == "sma_cross" and run.symbol == "TEST" and run.timeframe == "1h"
    assert run.parameters["strategy_params"] == {"fast": 2, "slow": 3, "allow_short": False}
    assert run.parameters["fee_pct"] == "0.1" and run.code_version.startswith("0.1.0")
    assert run.data_start.isoformat() == "2019-02-04T00:00:00+00:00" and run.data_end.isoformat() == "2019-02-04T19:00:00+00:00"
    assert [t.exit_reason for t in run.trades] == ["signal", "take_profit"]

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["backtest"])))
    text = next(a.data for a in artifacts if summary["run_id"] in a.data)
    assert "| Trades | 2 |" in text and "data:image/png;base64," in text and "| signal | 1 |" in text
    assert "## Value at risk (1 day)\n\nNot enough history: 1 daily return, at least 20" in text
    assert summary["value_at_risk"]["daily_returns"] == 1 and summary["value_at_risk"]["historical_99"] is None


def test_the_full_protection_policy_counts_exits_by_reason(home, tmp_path):
    data = write_bars(random_walk(1500, seed=11), tmp_path / "walk.csv")

    summary = backtest(strategy="sma_cross", symbol="TEST", timeframe="1h", params={"fast": 10, "slow": 50},
                       data=str(data), policy="protection")

    exits = summary["exits_by_reason"]
    assert set(exits) >= {"stop", "breakeven", "trailing", "conditional", "signal", "breaker",
                          "scale_out_2R", "scale_out_3R", "scale_out_4R"}
    assert sum(exits.values()) == summary["trades"] > 5
    assert sum(exits[k] for k in ("breakeven", "trailing", "scale_out_2R")) > 0  # protection acted, not only the stop
    assert summary["recipe"]["policy"] == "protection" and summary["recipe"]["size"] is None


def test_the_one_day_var_in_the_summary_report_and_ledger_is_var_py_on_the_runs_daily_returns(home, tmp_path):
    from tradeloom.flows.backtest import make_recipe
    from tradeloom.trading.optimiser.recipe import run_recipe
    from tradeloom.trading.risk.var import daily_returns, historical_var, parametric_var
    from tradeloom.trading.strategies.registry import strategy_by_name

    bars = random_walk(1500, seed=11)  # 1,500 hours: 63 UTC days
    summary = backtest(strategy="sma_cross", symbol="TEST", timeframe="1h", params={"fast": 10, "slow": 50},
                       data=str(write_bars(bars, tmp_path / "walk.parquet")), policy="protection")

    # the same run in process, and var.py (the reference) on its daily closing equity
    recipe = make_recipe("TEST", 100_000, None, 2.0, 4.0, 0.1, "protection")
    result = run_recipe(strategy_by_name("sma_cross", {"fast": 10, "slow": 50}), bars, recipe).result
    returns = daily_returns(result.ts, result.equity, result.starting_cash)
    assert len(returns) == 63 and str(result.final_equity) == summary["final_equity"]
    final = [result.final_equity]
    expected = {f"{method}_{level}": str(fn(final, returns, Decimal(f"0.{level}")))
                for method, fn in (("parametric", parametric_var), ("historical", historical_var)) for level in (95, 99)}
    var = summary["value_at_risk"]
    assert {key: var[key] for key in expected} == expected and var["daily_returns"] == 63
    assert Decimal(var["historical_99"]) >= Decimal(var["historical_95"]) > 0  # the run moved money

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["backtest"])))
    text = next(a.data for a in artifacts if summary["run_id"] in a.data)
    assert f"| 95% | {Decimal(expected['parametric_95']):,.2f} | {Decimal(expected['historical_95']):,.2f} |" in text
    assert f"| 99% | {Decimal(expected['parametric_99']):,.2f} | {Decimal(expected['historical_99']):,.2f} |" in text
    page = Path(summary["reports"]["html"]).read_text(encoding="utf-8")
    assert f"<td>{Decimal(expected['historical_99']):,.2f}</td>" in page
    with SqlLedger(default_ledger_url(home)) as ledger:
        run = ledger.backtest_run(summary["run_id"])
    assert run is not None and run.metrics["value_at_risk"] == var


def test_bad_inputs_fail_the_flow_naming_the_problem(home, tmp_path):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"ts": [1, 2], "open": [1.0, 1.0], "close": [1.0, 1.0]}).to_csv(bad, index=False)
    with pytest.raises(ValueError, match=r"lacks columns \['high', 'low', 'volume'\]"):
        backtest(strategy="sma_cross", symbol="TEST", timeframe="1h", data=str(bad))
    with pytest.raises(ValueError, match="has no EURUSD 1m bars"):
        backtest(strategy="sma_cross", symbol="EURUSD", timeframe="1m")
    with pytest.raises(ValueError, match="unknown strategy 'nope'|no saved strategy 'nope'"):
        backtest(strategy="nope", symbol="TEST", timeframe="1h", data=str(write_bars(hand_bars(), tmp_path / "h.csv")))
    assert np.isfinite(hand_bars().close).all()


def test_the_main_jobs_baseline_backtest_shows_each_protection_rule_on_the_sample_hours(home):
    from tradeloom.flows.ingest import ingest_dukascopy
    from tradeloom.flows.sample import BASELINE_BACKTEST, SAMPLE_DIR, _utc

    ingest_dukascopy(symbols=["EURUSD"], timeframes=["1h"], start=_utc(2019, 2, 1), end=_utc(2019, 3, 1),
                     base_url=str(SAMPLE_DIR / "dukascopy"), api="legacy")

    summary = backtest(**BASELINE_BACKTEST)

    assert summary["bars"] == 480 and summary["policy"] == "protection" and summary["trades"] == 19
    assert summary["exits_by_reason"] == {"stop": 7, "take_profit": 0, "breakeven": 0, "trailing": 2, "conditional": 2,
                                          "signal": 5, "breaker": 0, "scale_out_2R": 2, "scale_out_3R": 1, "scale_out_4R": 0}
    assert summary["entries_skipped_by_reason"] == {}
    # every entry (19) and market exit (5 signal, 2 conditional) planned; no book on bars, so all at market
    assert summary["execution"] == {"methods": {"market": 26}, "fills_beyond_slippage_tolerance": 0, "flagged_fills": []}
    with SqlLedger(default_ledger_url(home)) as ledger:  # order methods, flagged fills and skipped entries recorded
        run = ledger.backtest_run(summary["run_id"])
    assert run is not None and run.metrics["execution"] == summary["execution"]
    assert run.metrics["entries_skipped_by_reason"] == {}
    var = summary["value_at_risk"]  # 24 UTC days with bars (20 weekdays, 4 Sunday evenings): enough for a VaR
    assert var["daily_returns"] == 24 and var["historical_99"] is not None and var["parametric_99"] is not None
