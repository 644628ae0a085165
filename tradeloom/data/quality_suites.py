"""The Great Expectations suites for bars and ticks, built once per process in an ephemeral context.

A missing price is reported once, by its not-null expectation (pair expectations skip
rows with a missing value). Each expectation carries ``meta`` with the column it judges (as the frame names it) and
the rule in words, so a failure reads "high >= close: 1 row" rather than GE's kwargs.
Great Expectations is imported lazily: importing it takes seconds, and readers of the
store never need it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

PRICE_COLUMNS_BARS = ("open", "high", "low", "close")
PRICE_COLUMNS_TICKS = ("bid", "ask")
GRID_OFFSET = "grid_offset_ns"  # ts minus the start of its bar on the timeframe's grid


@dataclass
class Suites:
    """A live GE context with one whole-dataframe batch definition and one suite per schema."""

    context: Any
    batch_definitions: dict[str, Any]
    suites: dict[str, Any]


_lock = threading.Lock()
_suites: Suites | None = None


def _meta(column: str | None, rule: str) -> dict[str, Any]:
    return {"column": column, "rule": rule}


def _bar_expectations() -> list[Any]:
    import great_expectations.expectations as gxe

    out: list[Any] = [gxe.ExpectColumnValuesToNotBeNull(column="ts", meta=_meta("ts", "ts is present"))]
    for column in PRICE_COLUMNS_BARS:
        out.append(gxe.ExpectColumnValuesToNotBeNull(column=column, meta=_meta(column, f"{column} is present")))
        out.append(gxe.ExpectColumnValuesToBeBetween(
            column=column, min_value=0, strict_min=True, meta=_meta(column, f"{column} > 0")))
    for a, b in (("high", "open"), ("high", "close"), ("open", "low"), ("close", "low")):
        out.append(gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=a, column_B=b, or_equal=True, ignore_row_if="either_value_is_missing",
            meta=_meta(f"{a},{b}", f"{a} >= {b}")))
    out += [
        gxe.ExpectColumnValuesToBeBetween(column="volume", min_value=0, meta=_meta("volume", "volume >= 0")),
        gxe.ExpectColumnValuesToBeUnique(column="ts", meta=_meta("ts", "ts is unique")),
        gxe.ExpectColumnValuesToBeIncreasing(
            column="ts", strictly=True, meta=_meta("ts", "ts strictly increasing")),
        gxe.ExpectColumnValuesToBeBetween(
            column=GRID_OFFSET, min_value=0, max_value=0,
            meta=_meta("ts", "ts on the timeframe's grid (bar start)")),
    ]
    return out


def _tick_expectations() -> list[Any]:
    import great_expectations.expectations as gxe

    out: list[Any] = [gxe.ExpectColumnValuesToNotBeNull(column="ts", meta=_meta("ts", "ts is present"))]
    for column in PRICE_COLUMNS_TICKS:
        out.append(gxe.ExpectColumnValuesToNotBeNull(column=column, meta=_meta(column, f"{column} is present")))
        out.append(gxe.ExpectColumnValuesToBeBetween(
            column=column, min_value=0, strict_min=True, meta=_meta(column, f"{column} > 0")))
    out.append(gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="ask", column_B="bid", or_equal=True, ignore_row_if="either_value_is_missing",
        meta=_meta("ask,bid", "bid <= ask")))
    for column in ("bid_volume", "ask_volume"):
        out.append(gxe.ExpectColumnValuesToBeBetween(
            column=column, min_value=0, meta=_meta(column, f"{column} >= 0")))
    # Non-strict: two ticks may share a millisecond; the store keeps both (seq).
    out.append(gxe.ExpectColumnValuesToBeIncreasing(
        column="ts", strictly=False, meta=_meta("ts", "ts non-decreasing")))
    return out


def _build() -> Suites:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    datasource = context.data_sources.add_pandas("tradeloom_batches")
    batch_definitions, suites = {}, {}
    for name, expectations in (("bars", _bar_expectations()), ("ticks", _tick_expectations())):
        asset = datasource.add_dataframe_asset(name)
        batch_definitions[name] = asset.add_batch_definition_whole_dataframe(f"{name}_whole")
        suite = gx.ExpectationSuite(name=f"tradeloom_{name}")
        for expectation in expectations:
            suite.add_expectation(expectation)
        suites[name] = context.suites.add(suite)
    return Suites(context, batch_definitions, suites)


def suites() -> Suites:
    """The process's GE context and suites, built on first use."""
    global _suites
    with _lock:
        if _suites is None:
            _suites = _build()
        return _suites


def run_suite(kind: str, frame: Any) -> Any:
    """Validate ``frame`` against the ``kind`` ("bars" or "ticks") suite; GE's suite result.

    Serialised per process: the shared GE context is not safe to use from two threads at once.
    """
    built = suites()
    with _lock:
        batch = built.batch_definitions[kind].get_batch(batch_parameters={"dataframe": frame})
        return batch.validate(
            built.suites[kind],
            result_format={"result_format": "BASIC", "partial_unexpected_count": 3},
        )
