"""A markdown summary of a backtest (metrics, exits by reason, one-day value at risk, the chart) for a Prefect artifact.

Prefect's UI renders markdown images from ``data:image/png;base64`` URIs, so the chart is
embedded by default and the artifact stands alone; pass ``embed_chart=False`` to link the file.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from pathlib import Path

from tradeloom.trading.metrics import Metrics
from tradeloom.trading.risk.var import EquityVar


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.2f}%"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _money(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value:,.2f}"


def _duration(ns: int) -> str:
    seconds = ns // 1_000_000_000
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    return f"{days}d {hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def metric_rows(metrics: Metrics) -> list[tuple[str, str]]:
    """The metrics as (label, formatted value) rows, in reading order."""
    return [
        ("Total return", _pct(metrics.total_return)),
        ("CAGR", _pct(metrics.cagr)),
        ("Sharpe", _ratio(metrics.sharpe)),
        ("Sortino", _ratio(metrics.sortino)),
        ("Calmar", _ratio(metrics.calmar)),
        ("Max drawdown", _pct(metrics.max_drawdown)),
        ("Max drawdown duration", f"{_duration(metrics.max_drawdown_duration_ns)} ({metrics.max_drawdown_duration_bars} bars)"),
        ("Trades", str(metrics.trades)),
        ("Win rate", _pct(metrics.win_rate)),
        ("Profit factor", _ratio(metrics.profit_factor)),
        ("Expectancy", _money(metrics.expectancy)),
        ("Exposure", _pct(metrics.exposure)),
        ("Fees", _money(metrics.fees)),
        ("Initial equity", _money(metrics.initial_equity)),
        ("Final equity", _money(metrics.final_equity)),
        ("Bars", str(metrics.bars)),
        ("Periods per year", "n/a" if metrics.periods_per_year is None else f"{metrics.periods_per_year:,.1f}"),
    ]


def var_rows(value_at_risk: EquityVar) -> list[tuple[str, str, str]]:
    """(confidence, parametric, historical) rows of a one-day VaR; empty when there was not enough history."""
    report = value_at_risk.report
    if report is None:
        return []
    return [("95%", _money(report.parametric_95), _money(report.historical_95)),
            ("99%", _money(report.parametric_99), _money(report.historical_99))]


def var_heading(value_at_risk: EquityVar) -> str:
    """The section title, naming the horizon."""
    return f"Value at risk ({value_at_risk.horizon})"


def png_data_uri(path: Path | str) -> str:
    """The PNG at ``path`` as a ``data:image/png;base64`` URI."""
    data = Path(path).read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError(f"{path} is not a PNG file")
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_summary(
    metrics: Metrics,
    *,
    title: str,
    chart_png: Path | str | None = None,
    embed_chart: bool = True,
    details: dict[str, str] | None = None,
    value_at_risk: EquityVar | None = None,
) -> str:
    """Markdown with ``title``, optional ``details``, the metrics, exits by reason, the VaR (if given) and the chart."""
    lines = [f"# {_cell(title)}", ""]
    for key, value in (details or {}).items():
        lines.append(f"- **{_cell(key)}**: {_cell(value)}")
    if details:
        lines.append("")
    lines += ["| Metric | Value |", "|---|---|"]
    lines += [f"| {label} | {value} |" for label, value in metric_rows(metrics)]
    lines += ["", "## Exits by reason", ""]
    if metrics.exits_by_reason:
        lines += ["| Reason | Exits |", "|---|---|"]
        lines += [f"| {_cell(reason)} | {count} |" for reason, count in metrics.exits_by_reason.items()]
    else:
        lines.append("No closed trades.")
    if value_at_risk is not None:
        lines += ["", f"## {var_heading(value_at_risk)}", ""]
        rows = var_rows(value_at_risk)
        if rows:
            lines += ["| Confidence | Parametric | Historical |", "|---|---|---|"]
            lines += [f"| {level} | {parametric} | {historical} |" for level, parametric, historical in rows]
            lines.append("")
        lines.append(_cell(value_at_risk.note[0].upper() + value_at_risk.note[1:]) + ".")
    if chart_png is not None:
        target = png_data_uri(chart_png) if embed_chart else Path(chart_png).as_posix()
        lines += ["", "## Equity and drawdown", "", f"![Equity and drawdown]({target})"]
    return "\n".join(lines) + "\n"
