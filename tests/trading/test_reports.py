"""Reports: the PNG, the offline HTML page and the markdown summary, written to real files."""

from __future__ import annotations

import base64
import re
import struct
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from tradeloom.trading.metrics import compute_metrics
from tradeloom.trading.reports.chart import equity_drawdown_png, thin_curve
from tradeloom.trading.reports.html import html_report
from tradeloom.trading.reports.summary import markdown_summary, metric_rows, png_data_uri
from tests.trading.test_metrics import EQUITY, TRADES, TS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_png_of_equity_and_drawdown(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "dir" / "equity.png"
    written = equity_drawdown_png(TS, EQUITY, target, title="SMA cross on EURUSD")
    assert written == target and png_size(target) == (800, 480)  # 10x6 inches at 80 dpi
    assert png_size(equity_drawdown_png(TS, [100.0] * 5, tmp_path / "flat.png", dpi=50)) == (500, 300)
    with pytest.raises(ValueError, match="one timestamp per value; got 4 ts, 5 values"):
        equity_drawdown_png(TS[:4], EQUITY, tmp_path / "bad.png")


def test_thin_curve_keeps_the_extremes_and_the_end() -> None:
    rng = np.random.default_rng(3)
    values = np.cumsum(rng.normal(size=100_001))
    ts = np.arange(len(values), dtype=np.int64)
    x, y = thin_curve(ts, values, max_points=1000)
    assert len(x) <= 1001 and (np.diff(x) > 0).all()
    assert y.min() == values.min() and y.max() == values.max() and x[-1] == ts[-1]
    np.testing.assert_array_equal(y, values[x])
    small_x, small_y = thin_curve(ts[:10], values[:10], max_points=1000)
    np.testing.assert_array_equal(small_y, values[:10])
    with pytest.raises(ValueError, match="max_points must be at least 4"):
        thin_curve(ts, values, max_points=2)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.cells: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs))
        if tag in ("table", "tr", "td", "th", "script", "div", "body", "html"):
            self.open.append(tag)
        self._in_cell = tag in ("td", "th")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("table", "tr", "td", "th", "script", "div", "body", "html"):
            assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
            self.open.pop()
        self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.cells.append(data)


def test_html_report_is_self_contained_and_shows_the_numbers(tmp_path: Path) -> None:
    metrics = compute_metrics(TS, EQUITY, TRADES)
    path = html_report(TS, EQUITY, TRADES, metrics, tmp_path / "report" / "index.html", title="<SMA> & co")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<title>&lt;SMA&gt; &amp; co</title>" in text
    tags = _Tags()
    tags.feed(text)
    tags.close()
    assert tags.open == []  # every table, row, cell, script and div closed in order
    assert all("src" not in attrs for attrs in tags.scripts)  # plotly.js is inline: the page works offline
    assert len(text) > 1_000_000 and "Plotly.newPlot" in text
    for cell in ("Max drawdown", "25.00%", "Sharpe", "6.88", "Profit factor", "3.50", "take_profit", "1970-01-03 00:00:00", "131"):
        assert cell in tags.cells, cell


def test_markdown_summary_has_the_metrics_the_exits_and_the_chart(tmp_path: Path) -> None:
    metrics = compute_metrics(TS, EQUITY, TRADES)
    chart = equity_drawdown_png(TS, EQUITY, tmp_path / "equity.png")
    text = markdown_summary(metrics, title="Backtest sma_cross", chart_png=chart, details={"symbol": "EUR|USD"})
    assert text.startswith("# Backtest sma_cross\n") and "- **symbol**: EUR\\|USD" in text
    for row in (
        "| Total return | 26.00% |",
        "| Sharpe | 6.88 |",
        "| Sortino | 12.10 |",
        "| Max drawdown | 25.00% |",
        "| Max drawdown duration | 3d 00:00:00 (3 bars) |",
        "| Trades | 3 |",
        "| Win rate | 66.67% |",
        "| Profit factor | 3.50 |",
        "| Expectancy | 8.33 |",
        "| Exposure | 60.00% |",
        "| Fees | 2.50 |",
        "| Final equity | 126.00 |",
        "| stop | 1 |",
        "| take_profit | 1 |",
        "| signal | 1 |",
    ):
        assert row in text, row
    uri = re.search(r"!\[Equity and drawdown\]\((data:image/png;base64,[A-Za-z0-9+/=]+)\)", text)
    assert uri is not None and base64.b64decode(uri.group(1).split(",", 1)[1]) == chart.read_bytes()
    linked = markdown_summary(metrics, title="t", chart_png=chart, embed_chart=False)
    assert f"![Equity and drawdown]({chart.as_posix()})" in linked


def test_markdown_summary_without_trades_or_chart() -> None:
    metrics = compute_metrics(TS, [100.0] * 5)
    text = markdown_summary(metrics, title="Nothing happened")
    assert "No closed trades." in text and "| Sharpe | n/a |" in text and "![" not in text
    assert dict(metric_rows(metrics))["Profit factor"] == "n/a"


def test_png_data_uri_refuses_other_files(tmp_path: Path) -> None:
    other = tmp_path / "not.png"
    other.write_bytes(b"GIF89a")
    with pytest.raises(ValueError, match="is not a PNG file"):
        png_data_uri(other)


def test_markdown_and_html_show_the_one_day_var_of_a_known_curve(tmp_path: Path) -> None:
    from decimal import Decimal

    from tests.trading.risk.test_var import known_curve
    from tradeloom.trading.risk.var import equity_var

    ts, equity = known_curve()  # worst day -2%, second worst -1.5% of a final equity of 10,000 (see test_var)
    var = equity_var(ts, equity, Decimal(10000), Decimal(10000))
    metrics = compute_metrics(ts, equity, [])
    text = markdown_summary(metrics, title="VaR", value_at_risk=var)
    section = text.split("## Value at risk (1 day)\n", 1)[1]
    assert "| Confidence | Parametric | Historical |" in section
    assert "| 95% | 137.84 | 150.00 |" in section and "| 99% | 195.08 | 200.00 |" in section
    assert "from 20 daily returns of the equity curve" in section

    page = html_report(ts, equity, [], metrics, tmp_path / "var.html", title="VaR", value_at_risk=var)
    tags = _Tags()
    tags.feed(page.read_text(encoding="utf-8"))
    cells = tags.cells
    assert "<h2>Value at risk (1 day)</h2>" in page.read_text(encoding="utf-8")
    at = cells.index("Confidence")
    assert cells[at:at + 9] == ["Confidence", "Parametric", "Historical", "95%", "137.84", "150.00", "99%", "195.08", "200.00"]


def test_markdown_and_html_say_when_there_is_not_enough_history(tmp_path: Path) -> None:
    from decimal import Decimal

    from tradeloom.trading.risk.var import equity_var

    var = equity_var(TS[:1], EQUITY[:1], Decimal(100), Decimal(100))  # one day
    metrics = compute_metrics(TS, EQUITY, TRADES)
    text = markdown_summary(metrics, title="short", value_at_risk=var)
    assert ("## Value at risk (1 day)\n\nNot enough history: 1 daily return, at least 20 are needed for a one-day VaR.\n"
            in text) and "| Confidence |" not in text
    page = html_report(TS, EQUITY, TRADES, metrics, tmp_path / "short.html", value_at_risk=var).read_text(encoding="utf-8")
    assert "<p>Not enough history: 1 daily return, at least 20 are needed for a one-day VaR.</p>" in page
    assert "Value at risk" not in markdown_summary(metrics, title="no var")
