"""Exit reasons group into kinds for the backtest report."""

from __future__ import annotations

import pytest

from tradeloom.trading.risk.exit_reasons import exit_kind, exits_by_kind


def test_reasons_group_by_kind() -> None:
    reasons = ["stop", "conditional: rsi, macd_cross", "scale_out_2R", "conditional: profit, rsi", "breakeven",
               "breaker: kill switch: ops", "scale_out_3R", "stop", "trailing", "signal"]
    assert exits_by_kind(reasons) == {"conditional": 2, "stop": 2, "breakeven": 1, "breaker": 1, "scale_out_2R": 1,
                                      "scale_out_3R": 1, "signal": 1, "trailing": 1}
    assert exit_kind("scale_out_2.5R") == "scale_out_2.5R"
    with pytest.raises(ValueError, match="has no kind"):
        exit_kind(": nothing")
