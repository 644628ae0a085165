"""``tradeloom data``: read the market store. These commands never start Prefect."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from tradeloom.deployments.cli_output import JSON_OPTION, console, parse_moment, print_json
from tradeloom.settings.platform import PlatformSettings

app = typer.Typer(help="Query the market store (market.duckdb under TRADELOOM_HOME).", no_args_is_help=True)


def _store(must_exist: bool = True):
    from tradeloom.data.store import MarketStore

    path = PlatformSettings().market_store_path
    if must_exist and not path.exists():
        console.print(f"[red]no market store at {path}[/red]: run `tradeloom up --once` or an ingestion first")
        raise typer.Exit(1)
    return MarketStore(path)


def _export(frame, as_json: bool, csv: Optional[Path], parquet: Optional[Path], title: str) -> None:
    if csv:
        frame.to_csv(csv, index=False)
        console.print(f"wrote {len(frame)} rows to {csv}")
    if parquet:
        frame.to_parquet(parquet, index=False)
        console.print(f"wrote {len(frame)} rows to {parquet}")
    if as_json:
        records = frame.assign(ts=frame["ts"].map(lambda t: t.isoformat())).to_dict(orient="records")
        print_json([{k: (None if v != v else v) for k, v in r.items() if k != "ingested_at"} for r in records])
    elif not (csv or parquet):
        table = Table(title=f"{title} ({len(frame)} rows)")
        shown = frame.drop(columns=[c for c in ("ingested_at",) if c in frame.columns])
        for column in shown.columns:
            table.add_column(column)
        for row in shown.head(50).itertuples(index=False):
            table.add_row(*(str(v) for v in row))
        console.print(table)
        if len(frame) > 50:
            console.print(f"... {len(frame) - 50} more rows (use --csv, --parquet or --json for all)")


@app.command()
def bars(
    symbol: str = typer.Option(..., "--symbol"),
    timeframe: str = typer.Option(..., "--timeframe"),
    start: Optional[str] = typer.Option(None, "--start", help="ISO date-time, UTC."),
    end: Optional[str] = typer.Option(None, "--end", help="ISO date-time, UTC (exclusive)."),
    source: Optional[str] = typer.Option(None, "--source", help="Only this source's bars."),
    as_json: bool = JSON_OPTION,
    csv: Optional[Path] = typer.Option(None, "--csv", help="Write the bars to this CSV file."),
    parquet: Optional[Path] = typer.Option(None, "--parquet", help="Write the bars to this Parquet file."),
) -> None:
    """Bars of one symbol and timeframe, one per timestamp (the best source by priority)."""
    from tradeloom.data.priority import sources_for
    from tradeloom.settings.market import MarketDataSettings

    frame = _store().bars(symbol, timeframe, parse_moment(start, "--start"), parse_moment(end, "--end"), source=source,
                          priority=sources_for(MarketDataSettings().source_priority, symbol, timeframe))
    _export(frame, as_json, csv, parquet, f"{symbol} {timeframe}")


@app.command()
def ticks(
    symbol: str = typer.Option(..., "--symbol"),
    start: Optional[str] = typer.Option(None, "--start"),
    end: Optional[str] = typer.Option(None, "--end"),
    as_json: bool = JSON_OPTION,
    csv: Optional[Path] = typer.Option(None, "--csv"),
    parquet: Optional[Path] = typer.Option(None, "--parquet"),
) -> None:
    """Ticks of one symbol."""
    frame = _store().ticks(symbol, parse_moment(start, "--start"), parse_moment(end, "--end"))
    _export(frame, as_json, csv, parquet, f"{symbol} ticks")


@app.command()
def status(as_json: bool = JSON_OPTION) -> None:
    """Symbols, timeframes, row counts, first and last timestamps, watermarks, quarantined batches."""
    report = _store(must_exist=False).status()
    if as_json:
        print_json(report)
        return
    console.print_json(data=report, default=str)
