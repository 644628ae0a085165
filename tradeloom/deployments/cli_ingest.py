"""``tradeloom ingest``: run an ingestion flow now, on the local Prefect server when it is up."""

from __future__ import annotations

from typing import Optional

import typer

from tradeloom.deployments.cli_output import JSON_OPTION, console, parse_moment
from tradeloom.deployments.cli_runs import run_flow

app = typer.Typer(help="Ingest market data now (a backfill when --start/--end are given).", no_args_is_help=True)

SYMBOL = typer.Option(..., "--symbol", help="Instrument, e.g. EURUSD, AAPL, BTCUSD.")
TIMEFRAMES = typer.Option(None, "--timeframe", help="tick, 1m, 5m, 15m, 30m, 1h, 4h or 1d; repeatable.")
START = typer.Option(None, "--start", help="ISO date-time, UTC; default: from the watermark.")
END = typer.Option(None, "--end", help="ISO date-time, UTC, exclusive; default: now.")
BASE_URL = typer.Option(None, "--base-url", help="Vendor base URL or a local mirror directory.")


def show_ingestion(result: dict) -> None:
    """One line per unit of work: what was stored, skipped or failed."""
    for unit in result["units"]:
        console.print(f"{unit['source']} {unit['symbol']} {unit['timeframe']} {unit['start']}: "
                      f"{unit['status']} +{unit['rows_added']} rows {unit['message']}")


@app.command()
def dukascopy(
    symbol: str = SYMBOL,
    timeframe: Optional[list[str]] = TIMEFRAMES,
    start: Optional[str] = START,
    end: Optional[str] = END,
    base_url: Optional[str] = BASE_URL,
    api: Optional[str] = typer.Option(None, "--api", help="legacy (.bi5 datafeed) or json (the JSON API)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Dukascopy ticks (default) or bars."""
    from tradeloom.flows.ingest import ingest_dukascopy

    if api not in (None, "legacy", "json"):
        raise typer.BadParameter("must be legacy or json", param_hint="--api")
    run_flow(ingest_dukascopy, as_json, show_ingestion, symbols=[symbol], timeframes=timeframe or ["tick"],
             start=parse_moment(start, "--start"), end=parse_moment(end, "--end"), base_url=base_url, api=api)


@app.command()
def yahoo(symbol: str = SYMBOL, timeframe: Optional[list[str]] = TIMEFRAMES, start: Optional[str] = START,
          end: Optional[str] = END, base_url: Optional[str] = BASE_URL, as_json: bool = JSON_OPTION) -> None:
    """Yahoo Finance chart bars (default 1d)."""
    from tradeloom.flows.ingest import ingest_yahoo

    run_flow(ingest_yahoo, as_json, show_ingestion, symbols=[symbol], timeframes=timeframe or ["1d"],
             start=parse_moment(start, "--start"), end=parse_moment(end, "--end"), base_url=base_url)


@app.command()
def alphavantage(symbol: str = SYMBOL, timeframe: Optional[list[str]] = TIMEFRAMES, start: Optional[str] = START,
                 end: Optional[str] = END, base_url: Optional[str] = BASE_URL, as_json: bool = JSON_OPTION) -> None:
    """Alpha Vantage bars (default 1d); the key comes from a Secret block or TRADELOOM_ALPHAVANTAGE_API_KEY."""
    from tradeloom.flows.ingest import ingest_alphavantage

    run_flow(ingest_alphavantage, as_json, show_ingestion, symbols=[symbol], timeframes=timeframe or ["1d"],
             start=parse_moment(start, "--start"), end=parse_moment(end, "--end"), base_url=base_url)


@app.command()
def auto(symbol: str = SYMBOL, timeframe: str = typer.Option(..., "--timeframe"), start: Optional[str] = START,
         end: Optional[str] = END, as_json: bool = JSON_OPTION) -> None:
    """One instrument from the first source in priority order (TRADELOOM_SOURCE_PRIORITY) that delivers it."""
    from tradeloom.flows.ingest import ingest_instrument

    run_flow(ingest_instrument, as_json, show_ingestion, symbol=symbol, timeframe=timeframe,
             start=parse_moment(start, "--start"), end=parse_moment(end, "--end"))
