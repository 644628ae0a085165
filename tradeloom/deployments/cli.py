"""The ``tradeloom`` command."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from tradeloom.deployments import cli_backtest, cli_data, cli_ingest
from tradeloom.deployments.cli_output import console
from tradeloom.settings.platform import PlatformSettings

app = typer.Typer(help="tradeloom: market data, backtests, risk and live trading, run by Prefect.", no_args_is_help=True)
app.add_typer(cli_ingest.app, name="ingest")
app.add_typer(cli_data.app, name="data")
cli_backtest.register(app)
deployments_app = typer.Typer(help="The deployment registry.", no_args_is_help=True)
app.add_typer(deployments_app, name="deployments")


@app.callback()
def main() -> None:
    """Keep Prefect's own state under TRADELOOM_HOME, so runs made without the server share its database."""
    if "PREFECT_HOME" not in os.environ:
        prefect_home = (PlatformSettings().home / "prefect").resolve()
        prefect_home.mkdir(parents=True, exist_ok=True)  # Prefect creates only the last level; a fresh home has none
        os.environ["PREFECT_HOME"] = str(prefect_home)


@app.command()
def up(once: bool = typer.Option(False, "--once", help="Run the sample pipeline once, then stop and exit with its outcome.")) -> None:
    """The main job: local Prefect server + served deployments + the sample pipeline; serves until Ctrl-C."""
    from tradeloom.deployments.main_job import run_main_job

    raise typer.Exit(run_main_job(PlatformSettings(), once=once, console=console))


@app.command()
def serve() -> None:
    """Serve every deployment with its schedule against PREFECT_API_URL (no server is started)."""
    from tradeloom.deployments.serve import serve_all

    serve_all()


@deployments_app.command("yaml")
def deployments_yaml(
    path: Path = typer.Option(Path("prefect.yaml"), "--path"),
    check: bool = typer.Option(False, "--check", help="Exit 1 if the file differs from the registry instead of writing it."),
) -> None:
    """Write prefect.yaml from the deployment registry."""
    from tradeloom.deployments.prefect_yaml import render, write

    if check:
        if not path.exists() or path.read_text() != render():
            console.print(f"{path} is out of date: run `tradeloom deployments yaml`")
            raise typer.Exit(1)
        console.print(f"{path} matches the registry")
        return
    console.print(f"wrote {write(path)}")
