"""Validating a batch before it may enter the store: Great Expectations suites plus calendar gap warnings.

Failures (any broken expectation) reject the batch whole; gaps the instrument's trading
calendar cannot explain are only warnings. Ticks may share a timestamp (non-decreasing),
bars may not (strictly increasing and unique).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from tradeloom.data.calendar import unexpected_gaps
from tradeloom.data.frames import BAR_COLUMNS, TICK_COLUMNS, Batch
from tradeloom.data.instruments import instrument
from tradeloom.data.quality_suites import GRID_OFFSET, run_suite
from tradeloom.data.timeframes import timeframe_ns

TICK_GAP_STEP_NS = 3_600_000_000_000  # ticks: warn when an open hour has none
_MAX_GAP_WARNINGS = 5


@dataclass(frozen=True)
class FailedCheck:
    """One broken expectation: its GE name, the column(s) it judges, how many rows broke it, the rule."""

    expectation: str
    column: str | None
    unexpected_count: int
    detail: str


@dataclass(frozen=True)
class ValidationReport:
    """The verdict on one batch: success, the broken expectations, warnings, and the row count."""

    success: bool
    failed: list[FailedCheck]
    warnings: list[str]
    rows: int

    def summary(self) -> str:
        """One message naming each failed expectation and how many rows broke it."""
        if self.success:
            note = f"; {len(self.warnings)} warning(s)" if self.warnings else ""
            return f"{self.rows} rows passed validation{note}"
        parts = [
            f"{check.expectation}({check.column}) [{check.detail}]: "
            f"{check.unexpected_count} row{'s' if check.unexpected_count != 1 else ''}"
            for check in self.failed
        ]
        return f"{len(self.failed)} expectation(s) failed on {self.rows} rows: " + "; ".join(parts)

    def failed_checks(self) -> list[dict[str, Any]]:
        """The failures as plain dicts, as MarketStore.quarantine stores them."""
        return [asdict(check) for check in self.failed]


def calendar_of(symbol: str) -> str:
    """The trading calendar of ``symbol``; "24x7" for a symbol tradeloom does not know."""
    try:
        return instrument(symbol).calendar
    except ValueError:
        return "24x7"


_HOUR_NS = 3_600_000_000_000
_DAY_NS = 24 * _HOUR_NS


def _ts_ns(frame: pd.DataFrame) -> np.ndarray:
    ts = frame["ts"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise ValueError(f"ts must be a tz-aware UTC datetime column, got dtype {ts.dtype}")
    return ts.dt.tz_convert("UTC").dt.as_unit("ns").to_numpy(dtype="datetime64[ns]").view("int64")


def _validation_frame(batch: Batch) -> pd.DataFrame:
    """The columns the suite reads, plus the grid offset for bars (NaT rows get offset 0; not-null catches them)."""
    schema = TICK_COLUMNS if batch.is_ticks else BAR_COLUMNS
    missing = [c for c in schema if c not in batch.frame.columns and c != "adj_close"]
    if missing:
        raise ValueError(
            f"batch {batch.source}/{batch.symbol}/{batch.timeframe} frame lacks columns {missing}"
        )
    values = ("bid", "ask", "bid_volume", "ask_volume") if batch.is_ticks else ("open", "high", "low", "close", "volume")
    columns: dict[str, Any] = {"ts": batch.frame["ts"]}
    for name in values:
        columns[name] = batch.frame[name]
    if not batch.is_ticks:
        ts_ns = _ts_ns(batch.frame)
        step = timeframe_ns(batch.timeframe)
        offset = np.mod(ts_ns, step)
        if calendar_of(batch.symbol) == "equity" and _HOUR_NS <= step < _DAY_NS:
            # Exchange sessions open at :30 (New York 09:30 is 13:30 or 14:30 UTC), so hourly
            # equity bars sit on a grid shifted by half an hour as legitimately as on the hour.
            offset = np.minimum(offset, np.mod(ts_ns - _HOUR_NS // 2, step))
        offset[batch.frame["ts"].isna().to_numpy()] = 0
        columns[GRID_OFFSET] = offset
    return pd.DataFrame(columns, copy=False)


def _plain(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_plain(v) for v in value) + ")"
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


def _failed_checks(result: Any) -> list[FailedCheck]:
    failed = []
    for item in result.results:
        if item.success:
            continue
        config = item.expectation_config
        meta = config.meta or {}
        info = item.exception_info or {}
        if info.get("raised_exception"):
            failed.append(FailedCheck(config.type, meta.get("column"), 0,
                                      f"{meta.get('rule', '')}; error: {info.get('exception_message')}"))
            continue
        count = int(item.result.get("unexpected_count") or 0)
        sample = item.result.get("partial_unexpected_list") or []
        detail = meta.get("rule", config.type)
        if sample:
            detail += f"; e.g. {', '.join(_plain(v) for v in sample[:3])}"
        failed.append(FailedCheck(config.type, meta.get("column"), count, detail))
    return failed


def _gap_warnings(batch: Batch, ts_ns: np.ndarray) -> list[str]:
    if len(ts_ns) < 2:
        return []
    calendar = calendar_of(batch.symbol)
    step = TICK_GAP_STEP_NS if batch.is_ticks else timeframe_ns(batch.timeframe)
    unit = "hour(s) without a tick" if batch.is_ticks else f"missing {batch.timeframe} bar(s)"
    gaps = unexpected_gaps(calendar, np.sort(ts_ns), step)
    warnings = [
        f"gap in {batch.symbol} {batch.timeframe} from {pd.Timestamp(start, tz='UTC').isoformat()} "
        f"to {pd.Timestamp(end, tz='UTC').isoformat()}: {missing} {unit} while the {calendar} market is open"
        for start, end, missing in gaps[:_MAX_GAP_WARNINGS]
    ]
    if len(gaps) > _MAX_GAP_WARNINGS:
        warnings.append(f"... and {len(gaps) - _MAX_GAP_WARNINGS} more gaps in {batch.symbol} {batch.timeframe}")
    return warnings


def validate_batch(batch: Batch) -> ValidationReport:
    """Run the batch's suite (bars or ticks); failures reject it, calendar gaps only warn."""
    rows = len(batch.frame)
    if not batch.is_ticks:
        timeframe_ns(batch.timeframe)
    if rows == 0:
        return ValidationReport(True, [], [], 0)
    frame = _validation_frame(batch)
    result = run_suite("ticks" if batch.is_ticks else "bars", frame)
    failed = _failed_checks(result)
    ts = frame["ts"]
    warnings = _gap_warnings(batch, _ts_ns(frame.loc[ts.notna()]) if ts.isna().any() else _ts_ns(frame))
    return ValidationReport(not failed, failed, warnings, rows)
