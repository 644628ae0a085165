"""An interactive HTML report (plotly, with plotly.js inlined so it opens offline): equity, drawdown, trades, metrics, VaR."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from tradeloom.trading.metrics import Metrics, TradeRecord, drawdown
from tradeloom.trading.reports.chart import as_curve, thin_curve
from tradeloom.trading.reports.summary import metric_rows, var_heading, var_rows
from tradeloom.trading.risk.var import EquityVar

MAX_TRADE_ROWS = 1000
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
"""


def _utc(ns: int) -> str:
    return str(np.datetime64(int(ns), "ns").astype("datetime64[s]")).replace("T", " ")


def _figure(stamps: np.ndarray, values: np.ndarray, trades: Sequence[TradeRecord], title: str) -> go.Figure:
    x_eq, y_eq = thin_curve(stamps, values)
    x_dd, y_dd = thin_curve(stamps, drawdown(values) * 100.0)
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.04)
    figure.add_trace(go.Scatter(x=x_eq.astype("datetime64[ns]"), y=y_eq, name="equity", line={"width": 1.2}), row=1, col=1)
    figure.add_trace(
        go.Scatter(x=x_dd.astype("datetime64[ns]"), y=y_dd, name="drawdown %", fill="tozeroy", line={"color": "#d62728", "width": 1}),
        row=2,
        col=1,
    )
    shown = list(trades[-MAX_TRADE_ROWS:])
    if shown:
        exits = np.array([t.exit_ts for t in shown], dtype=np.int64)
        at = np.clip(np.searchsorted(stamps, exits, side="right") - 1, 0, len(values) - 1)
        figure.add_trace(
            go.Scatter(
                x=exits.astype("datetime64[ns]"),
                y=values[at],
                mode="markers",
                name="exits",
                marker={"color": ["#2ca02c" if t.pnl > 0 else "#d62728" for t in shown], "size": 7},
                text=[f"{t.side.value} {t.quantity} @ {t.entry_price} -> {t.exit_price}<br>pnl {t.pnl} ({t.exit_reason})" for t in shown],
                hoverinfo="text+x",
            ),
            row=1,
            col=1,
        )
    figure.update_layout(title=title, height=620, hovermode="x unified", margin={"l": 60, "r": 20, "t": 60, "b": 40})
    figure.update_yaxes(title_text="equity", row=1, col=1)
    figure.update_yaxes(title_text="drawdown %", row=2, col=1)
    return figure


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_report(
    ts: Sequence[int] | np.ndarray,
    equity: Sequence[object] | np.ndarray,
    trades: Sequence[TradeRecord],
    metrics: Metrics,
    path: Path | str,
    *,
    title: str = "Backtest",
    value_at_risk: EquityVar | None = None,
) -> Path:
    """Write a self-contained interactive report to ``path`` (no network needed to view it); returns the path."""
    stamps, values = as_curve(ts, equity)
    chart = _figure(stamps, values, trades, title).to_html(full_html=False, include_plotlyjs=True)
    shown = list(trades[-MAX_TRADE_ROWS:])
    trade_rows = [
        (t.symbol, t.side.value, t.quantity, _utc(t.entry_ts), t.entry_price, _utc(t.exit_ts), t.exit_price, t.pnl, t.fees, t.exit_reason)
        for t in shown
    ]
    note = f"<p>The last {len(shown)} of {len(trades)} trades.</p>" if len(shown) < len(trades) else ""
    var_section: list[str] = []
    if value_at_risk is not None:
        rows = var_rows(value_at_risk)
        var_section = [f"<h2>{html.escape(var_heading(value_at_risk))}</h2>",
                       _table(("Confidence", "Parametric", "Historical"), rows) if rows else "",
                       f"<p>{html.escape(value_at_risk.note[0].upper() + value_at_risk.note[1:])}.</p>"]
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
            f"<h1>{html.escape(title)}</h1>",
            chart,
            "<h2>Metrics</h2>",
            _table(("Metric", "Value"), metric_rows(metrics)),
            "<h2>Exits by reason</h2>",
            _table(("Reason", "Exits"), list(metrics.exits_by_reason.items())),
            *var_section,
            f"<h2>Trades</h2>{note}",
            _table(("Symbol", "Side", "Qty", "Entry (UTC)", "Entry", "Exit (UTC)", "Exit", "PnL", "Fees", "Reason"), trade_rows),
            "</body></html>",
        ]
    )
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target
