"""A markdown summary of a backtest (metrics table, exits by reason, the chart) for a Prefect artifact.

Prefect's UI renders markdown images from ``data:image/png;base64`` URIs, so the chart is
embedded by default and the artifact stands alone; pass ``embed_chart=False`` to link the file.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from pathlib import Path

from tradeloom.trading.metrics import Metrics


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
) -> str:
    """Markdown with ``title``, optional ``details`` (strategy, symbol, range...), the metrics, exits by reason and the chart."""
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
    if chart_png is not None:
        target = png_data_uri(chart_png) if embed_chart else Path(chart_png).as_posix()
        lines += ["", "## Equity and drawdown", "", f"![Equity and drawdown]({target})"]
    return "\n".join(lines) + "\n"
