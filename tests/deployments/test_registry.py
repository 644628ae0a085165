"""One registry of deployments: prefect.yaml is generated from it and must not drift."""

from pathlib import Path

import yaml

from tradeloom.deployments.prefect_yaml import render
from tradeloom.deployments.registry import DEPLOYMENTS, deployment_id

REPO = Path(__file__).resolve().parents[2]


def test_committed_prefect_yaml_matches_the_registry():
    assert (REPO / "prefect.yaml").read_text() == render(), "run `tradeloom deployments yaml`"


def test_schedules_dukascopy_hourly_and_the_daily_sources_after_the_close():
    crons = {deployment_id(spec): spec.cron for spec in DEPLOYMENTS}
    assert crons["ingest-dukascopy/hourly"] == "7 * * * *"
    assert crons["ingest-yahoo/daily-after-close"] == "30 22 * * 1-5"
    assert crons["ingest-alphavantage/daily-after-close"] == "45 22 * * 1-5"


def test_every_entrypoint_names_the_registered_flow():
    document = yaml.safe_load(render())
    for spec, entry in zip(DEPLOYMENTS, document["deployments"]):
        path, function = entry["entrypoint"].split(":")
        assert (REPO / path).is_file()
        assert spec.flow.fn.__name__ == function
        assert entry["work_pool"]["name"] == "tradeloom-process"
    assert set(document["definitions"]["work_pools"]) == {"process", "docker", "kubernetes"}
