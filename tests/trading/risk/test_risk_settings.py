"""RiskSettings: the issue's environment names, .env, clear errors, and the pure configuration."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest
from pydantic import ValidationError

from tradeloom.settings.risk import RiskSettings, risk_config
from tradeloom.trading.risk.breakers import TradingState
from tradeloom.trading.risk.config import RiskConfig
from tradeloom.trading.risk.execution.slippage import MarketOnExcess
from tradeloom.trading.risk.protection_rules import LevelUnit, ScaleLevel

ISSUE_NAMES = ("ENABLE_SCALED_SELL", "SCALED_SELL_LEVELS", "ENABLE_DYNAMIC_STOP_LOSS", "ENABLE_CONDITIONAL_SELL",
               "CONDITIONAL_SELL_MIN_CONDITIONS", "BUY_USE_POST_ONLY", "SELL_USE_POST_ONLY", "SLIPPAGE_TOLERANCE",
               "CHASE_DAILY_LIMIT")


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in list(RiskSettings.model_fields):
        monkeypatch.delenv(name.upper(), raising=False)
    return tmp_path


def test_defaults_are_the_documented_rules() -> None:
    config = risk_config(RiskSettings())
    assert config == RiskConfig()  # the settings' defaults and the modules' defaults agree


def test_the_issue_names_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ISSUE_NAMES:
        assert name.lower() in RiskSettings.model_fields
    values = {"ENABLE_SCALED_SELL": "false", "SCALED_SELL_LEVELS": "3%:50,6%:50", "ENABLE_DYNAMIC_STOP_LOSS": "0",
              "ENABLE_CONDITIONAL_SELL": "no", "CONDITIONAL_SELL_MIN_CONDITIONS": "2", "BUY_USE_POST_ONLY": "true",
              "SELL_USE_POST_ONLY": "1", "SLIPPAGE_TOLERANCE": "0.25", "CHASE_DAILY_LIMIT": "5",
              "DAILY_LOSS_STATE": "reducing", "SLIPPAGE_EXCESS_ACTION": "refuse", "MAX_PORTFOLIO_HEAT_PCT": "4",
              "CORRELATION_REFRESH_SECONDS": "3600"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    config = risk_config(RiskSettings())
    assert config.protection.scaled_exits_enabled is False
    assert config.protection.scale_levels == (ScaleLevel(D(3), D(50), LevelUnit.PERCENT), ScaleLevel(D(6), D(50), LevelUnit.PERCENT))
    assert config.dynamic_stop.enabled is False and config.conditional_exit.enabled is False
    assert config.conditional_exit.min_conditions == 2
    assert config.execution.buy_use_post_only and config.execution.sell_use_post_only
    assert config.execution.slippage.tolerance_pct == D("0.25") == config.gate.slippage.tolerance_pct
    assert config.execution.slippage.on_excess is MarketOnExcess.REFUSE
    assert config.surge.daily_limit == 5
    assert config.breakers.daily_loss_state is TradingState.REDUCING
    assert config.gate.heat.max_heat_pct == D(4)
    assert config.gate.heat.correlation_refresh_s == 3600


def test_dotenv_is_read(clean_env: Path) -> None:
    (clean_env / ".env").write_text("TRAILING_STOP_LADDER=2:1\nRISK_BANDS=0:1\n", encoding="utf-8")
    config = risk_config(RiskSettings())
    assert [(s.from_r, s.trail_r) for s in config.protection.trailing_ladder] == [(D(2), D(1))]
    assert config.sizing.risk_bands[0].risk_pct == D(1)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SCALED_SELL_LEVELS", "2:80,3:40", "more than 100%"),
        ("SCALED_SELL_LEVELS", "2-50", "TRIGGER:SHARE"),
        ("TRAILING_STOP_LADDER", "1.5:0", "positive R"),
        ("RISK_BANDS", "100:2", "start at equity 0"),
        ("CONDITIONAL_SELL_MIN_CONDITIONS", "7", "conditional_sell_min_conditions"),
        ("SLIPPAGE_TOLERANCE", "-1", "slippage_tolerance"),
        ("CORRELATION_REFRESH_SECONDS", "0", "correlation_refresh_seconds"),
    ],
)
def test_bad_settings_name_the_problem(monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        RiskSettings()
