"""``tradeloom backtest`` end to end on Parquet and CSV files, and ``tradeloom kill-switch`` on/off/status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner, Result

from tests.trading.optimiser.series import HOUR, hand_bars
from tradeloom.deployments.cli import app
from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.ledger import SqlLedger, default_ledger_url, from_ns
from tradeloom.trading.risk.breakers import TradingState
from tradeloom.trading.risk.kill_switch import KillSwitchStatus
from tradeloom.trading.risk.stored_state import StoredKillSwitch

TRADELOOM = str(Path(sys.executable).with_name("tradeloom"))
METRICS = {"total_return", "cagr", "sharpe", "sortino", "calmar", "max_drawdown", "max_drawdown_duration_bars",
           "max_drawdown_duration_ns", "win_rate", "profit_factor", "expectancy", "exposure", "trades", "fees"}


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "TRADELOOM_HOME": str(home), "TRADELOOM_PREFECT_API_URL": "http://127.0.0.1:9/api"}  # nothing there
    env.pop("PREFECT_API_URL", None)
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "300"  # a loaded 2-core machine starts it slowly
    return env


def _hand_files(tmp_path: Path) -> tuple[Path, Path]:
    bars = hand_bars()
    frame = pd.DataFrame({"ts": bars.ts, "open": bars.open, "high": bars.high, "low": bars.low, "close": bars.close,
                          "volume": bars.volume})
    parquet = tmp_path / "hand.parquet"
    frame.to_parquet(parquet)  # ts as integer nanoseconds
    csv = tmp_path / "hand.csv"
    frame.assign(ts=pd.to_datetime(frame["ts"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(csv, index=False)  # ISO
    return parquet, csv


def test_backtest_json_on_parquet_and_csv_gives_the_hand_computed_trades(tmp_path):
    parquet, csv = _hand_files(tmp_path)
    runs = {}
    for name, path in (("parquet", parquet), ("csv", csv)):  # both at once: each starts a temporary Prefect API
        home = tmp_path / f"home-{name}"
        args = [TRADELOOM, "backtest", "--strategy", "sma_cross", "--symbol", "TEST", "--timeframe", "1h",
                "--start", "2019-02-04T00:00", "--end", "2019-02-05T00:00", "--param", "fast=2", "--param", "slow=3",
                "--stop-pct", "2", "--take-profit-pct", "4", "--fee-pct", "0.1", "--cash", "10000", "--size", "1",
                "--data", str(path), "--policy", "fixed", "--json"]
        runs[name] = (home, subprocess.Popen(args, env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for name, (home, process) in runs.items():
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr
        out = json.loads(stdout)
        assert out["trades"] == 2, name
        assert Decimal(out["final_equity"]) == Decimal("10004.63096")  # 10000 + 0.797 + 3.83396
        assert METRICS <= set(out["metrics"])
        assert out["metrics"]["trades"] == 2 and Decimal(out["metrics"]["fees"]) == Decimal("0.40904")
        assert out["metrics"]["win_rate"] == 1.0 and out["metrics"]["profit_factor"] is None  # no losing trade
        assert out["exits_by_reason"] == {"stop": 0, "take_profit": 1, "breakeven": 0, "trailing": 0, "conditional": 0,
                                          "signal": 1, "breaker": 0}
        assert [(t["entry_price"], t["exit_price"]) for t in out["trade_list"]] == [("101.00000", "102.00000"),
                                                                                    ("101.00000", "105.04000")]
        assert out["start"] == "2019-02-04T00:00:00+00:00" and out["end"] == "2019-02-04T19:00:00+00:00"
        # 20 hours in one UTC day: one daily return, so no one-day VaR (bar returns are never scaled to a day)
        assert out["value_at_risk"] == {
            "horizon": "1 day", "equity": out["final_equity"], "daily_returns": 1, "min_daily_returns": 20,
            "parametric_95": None, "parametric_99": None, "historical_95": None, "historical_99": None,
            "note": "not enough history: 1 daily return, at least 20 are needed for a one-day VaR"}
        for kind in ("png", "html"):
            report = Path(out["reports"][kind])
            assert report.parent == home / "reports" and report.is_file()
        assert "temporary" in stderr  # no local server: it said so


def _invoke(home: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    # PREFECT_HOME given here is restored after the call, so nothing the command sets leaks into this process;
    # COLUMNS keeps error messages on one line; TRADELOOM_LEDGER_URL unset unless given (default: under the home).
    settings = {"TRADELOOM_HOME": str(home), "PREFECT_HOME": str(home / "prefect"), "COLUMNS": "300",
                "TRADELOOM_LEDGER_URL": None, **(env or {})}
    return CliRunner().invoke(app, list(args), env=settings)


def test_a_bad_parameter_is_refused_naming_it(tmp_path):
    done = _invoke(tmp_path, "backtest", "--param", "fast", "--json")
    assert done.exit_code == 2 and "must look like NAME=VALUE" in done.output


def _switch(home: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    done = _invoke(home, "kill-switch", *args, "--json", env=env)
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def _ledger_switch(url: str) -> KillSwitchStatus:
    with SqlLedger(url) as ledger:
        return StoredKillSwitch(ledger).status()


def test_kill_switch_on_off_status_says_who_why_and_when(tmp_path):
    home = tmp_path / "home"
    url = default_ledger_url(home)  # TRADELOOM_HOME/ledger.sqlite, the ledger the live loop opens by default
    assert _switch(home, "status") == {"engaged": False, "reason": "", "by": "", "since": None, "ledger": url}
    pulled = _switch(home, "on", "--reason", "exchange outage")
    assert pulled["engaged"] and pulled["reason"] == "exchange outage" and "@" in pulled["by"]
    assert pulled["since"].endswith("+00:00") and pulled["ledger"] == url
    assert _switch(home, "status") == pulled
    seen = _ledger_switch(url)  # what the engine reads, through another connection
    assert (seen.engaged, seen.reason, seen.by) == (True, "exchange outage", pulled["by"])
    assert from_ns(seen.since_ns).isoformat() == pulled["since"]
    released = _switch(home, "off", "--by", "bob@desk", "--reason", "venue back")
    assert released["engaged"] is False and (released["reason"], released["by"]) == ("venue back", "bob@desk")
    assert released["since"] >= pulled["since"] and not _ledger_switch(url).engaged
    shown = _invoke(home, "kill-switch", "status")
    assert shown.exit_code == 0 and "released" in shown.output and "by bob@desk (venue back)" in shown.output
    refused = _invoke(home, "kill-switch", "on")
    assert refused.exit_code == 2 and "needs a reason" in refused.output
    assert not _ledger_switch(url).engaged  # a refused pull wrote nothing


def test_kill_switch_uses_the_ledger_url_setting(tmp_path):
    home, shared = tmp_path / "home", tmp_path / "shared" / "ledger.sqlite"
    url = f"sqlite:///{shared}"  # where a worker on another machine would point TRADELOOM_LEDGER_URL (PostgreSQL there)
    pulled = _switch(home, "on", "--reason", "drill", env={"TRADELOOM_LEDGER_URL": url})
    assert pulled["ledger"] == url and _ledger_switch(url).engaged
    assert not (home / "ledger.sqlite").exists()  # nothing written to the default ledger
    assert _switch(home, "status")["engaged"] is False
    bad = _invoke(home, "kill-switch", "status", env={"TRADELOOM_LEDGER_URL": "not a url"})
    assert bad.exit_code == 2 and "is not a SQLAlchemy URL" in bad.output


class Operator:
    """A person at a console who runs the real ``tradeloom kill-switch`` command when the clock reaches a time."""

    def __init__(self, clock: BacktestClock, home: Path, plan: dict[int, list[str]], switch: StoredKillSwitch) -> None:
        self.clock, self.home, self.plan, self.switch = clock, home, dict(plan), switch
        self.done: list[tuple[int, str]] = []

    def status(self) -> KillSwitchStatus:
        """Act on the plan (once per step), then read the switch as the engine does."""
        for at in sorted(t for t in self.plan if t <= self.clock.now_ns()):
            args = self.plan.pop(at)
            _switch(self.home, *args)
            self.done.append((self.clock.now_ns(), args[0]))
        return self.switch.status()


def test_a_running_engine_obeys_the_switch_the_command_pulls_at_the_next_loop(tmp_path):
    from tests.trading.optimiser.series import INSTRUMENT, random_walk
    from tradeloom.settings.risk import RiskSettings, risk_config
    from tradeloom.trading.backtest import run_backtest
    from tradeloom.trading.risk.assembly import ReplayBarWindow, risk_side
    from tradeloom.trading.simulated import FeeSchedule, VenueConfig
    from tradeloom.trading.strategies.registry import strategy_by_name

    home = tmp_path / "home"
    bars = random_walk(600, seed=5)
    pull, release = int(bars.ts[150]), int(bars.ts[400])

    def run(plan: dict[int, list[str]] | None):  # type: ignore[no-untyped-def]
        clock = BacktestClock(int(bars.ts[0]))
        with SqlLedger(default_ledger_url(home)) as ledger:  # the loop's own connection to the ledger file
            switch = Operator(clock, home, plan, StoredKillSwitch(ledger)) if plan is not None else None
            side = risk_side(risk_config(RiskSettings()), Decimal(2), clock, fee_rate=Decimal("0.001"), kill_switch=switch,
                             bars=ReplayBarWindow(INSTRUMENT.symbol, bars, clock))
            result = run_backtest(strategy_by_name("sma_cross", {"fast": 5, "slow": 20}), bars, INSTRUMENT,
                                  VenueConfig(fees=FeeSchedule(Decimal("0.001"), Decimal("0.001"))), side.policy,
                                  Decimal(100_000), clock, gate=side.gate)
        size = np.abs(np.asarray(result.position, dtype=float))
        entered = np.flatnonzero(np.diff(size) > 0) + 1  # bars in which exposure grew
        return result, side, switch, entered

    _, _, _, free_entries = run(None)
    _, side, operator, entries = run({pull: ["on", "--reason", "drill", "--by", "ops@desk"], release: ["off", "--by", "ops@desk"]})

    # the engine's loop runs at each bar it acts on (every bar while a position is open, every signal bar while flat);
    # the person acted at the first loop at or after each planned time, and that same loop read the switch
    (pulled_at, on), (released_at, off) = operator.done
    assert (on, off) == ("on", "off") and pull <= pulled_at < released_at and release <= released_at
    halted = next(c for c in side.breakers.history if c.current is TradingState.HALTED)
    assert halted.ts == pulled_at and halted.reason == "kill switch: drill (by ops@desk)"
    resumed = next(c for c in side.breakers.history if c.ts > pulled_at and c.current is TradingState.ACTIVE)
    assert resumed.ts == released_at
    first, last = (int(np.searchsorted(bars.ts, at - HOUR)) for at in (pulled_at, released_at))  # the loops' bars
    assert any(first < t <= last for t in free_entries)  # without the switch the strategy enters in the window
    assert not any(first < t <= last for t in entries)  # pulled: no entry from the next bar until the release
    assert any(t > last for t in entries)  # released: entries resume
    assert _switch(home, "status")["engaged"] is False


def test_strategies_lists_the_base_and_the_saved_ones(tmp_path):
    from tradeloom.trading.optimiser.library import SavedStrategy, StrategyLibrary

    home = tmp_path / "home"
    lineage = [{"id": "g0-3", "generation": 0, "parents": [], "mutation": "random"},
               {"id": "g1-0", "generation": 1, "parents": ["g0-3"], "mutation": "copy; mutate fast 9->12"}]
    StrategyLibrary(home / "strategies").save(SavedStrategy(
        "fx-trend", "sma_cross", {"fast": 12, "slow": 40, "allow_short": False}, "sharpe", 1.25, "EURUSD", "1h",
        "2019-02-01T00:00:00+00:00", "2019-02-28T23:00:00+00:00", "2026-11-21T18:00:00+00:00", "0.1.0", lineage))
    done = _invoke(home, "strategies", "--json")
    assert done.exit_code == 0, done.output
    out = json.loads(done.stdout)
    assert out["base"] == ["donchian_breakout", "macd", "rsi_reversion", "sma_cross", "rules"]
    assert out["saved"] == [{"name": "fx-trend", "strategy": "sma_cross", "params": {"fast": 12, "slow": 40, "allow_short": False},
                             "metric": "sharpe", "fitness": 1.25, "symbol": "EURUSD", "timeframe": "1h", "generations": 2}]


def test_optimise_refuses_bad_options_before_starting_anything(tmp_path):
    metric = _invoke(tmp_path, "optimise", "--metric", "luck")
    assert metric.exit_code == 2 and "'luck' is not one of sharpe, sortino" in metric.output
    grid = _invoke(tmp_path, "optimise", "--method", "grid")
    assert grid.exit_code == 2 and "needs at least one --grid" in grid.output
    name = _invoke(tmp_path, "optimise", "--save-as", "sma_cross")
    assert name.exit_code == 2 and "base strategy's name" in name.output


def test_the_table_output_shows_skipped_entries_order_methods_flagged_fills_and_var(capsys):
    from tradeloom.deployments.cli_backtest import _show_backtest

    metrics = {key: 0.0 for key in METRICS}
    var = {"horizon": "1 day", "parametric_95": "137.84", "parametric_99": "195.08", "historical_95": "150.00",
           "historical_99": "200.00", "daily_returns": 20}
    summary = {"strategy": "sma_cross", "symbol": "EURUSD", "timeframe": "1h", "policy": "protection", "trades": 3,
               "final_equity": "10010", "metrics": metrics, "exits_by_reason": {"stop": 2, "trailing": 1},
               "entries_skipped_by_reason": {"chase_distance": 2, "trading_state": 1},
               "execution": {"methods": {"market": 5, "limit": 1}, "fills_beyond_slippage_tolerance": 1},
               "value_at_risk": var, "reports": {"png": "r.png", "html": "r.html"}}
    _show_backtest(summary)
    out = " ".join(capsys.readouterr().err.split())  # tables and notes go to stderr; stdout is kept for --json
    assert "exits by reason: stop 2, trailing 1" in out
    assert "entries skipped: chase_distance 2, trading_state 1" in out
    assert "order methods: market 5, limit 1; fills beyond SLIPPAGE_TOLERANCE: 1" in out
    assert ("value at risk (1 day) of the final equity: parametric 95% 137.84, 99% 195.08; historical 95% 150.00, "
            "99% 200.00 (from 20 daily returns)") in out
    _show_backtest({**summary, "policy": "fixed", "execution": {}, "entries_skipped_by_reason": {}})
    assert "order methods" not in capsys.readouterr().err


def test_kill_switch_on_a_ledger_that_cannot_be_opened_says_which_without_a_traceback(tmp_path):
    (tmp_path / "a-file").write_text("not a directory")
    url = f"sqlite:///{tmp_path / 'a-file' / 'ledger.sqlite'}"
    result = _invoke(tmp_path / "home", "kill-switch", "status", env={"TRADELOOM_LEDGER_URL": url})
    assert result.exit_code == 1
    assert f"cannot open the ledger {url}: FileExistsError" in " ".join(result.output.split())
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_kill_switch_never_shows_the_ledgers_password(tmp_path):
    url = "postgresql+psycopg://trader:s3cret-pw@127.0.0.1:9/tradeloom"  # no driver installed here, nothing on port 9
    result = _invoke(tmp_path / "home", "kill-switch", "status", env={"TRADELOOM_LEDGER_URL": url})
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert "ledger URL 'postgresql+psycopg://trader:***@127.0.0.1:9/tradeloom' needs the database driver 'psycopg'" in output
    assert "s3cret-pw" not in output
