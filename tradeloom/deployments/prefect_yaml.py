"""prefect.yaml, rendered from the deployment registry so the two never drift apart.

Regenerate with ``tradeloom deployments yaml``; a test fails when the committed file differs.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tradeloom.deployments.registry import DEPLOYMENTS

WORK_POOLS = {
    "process": {"name": "tradeloom-process", "work_queue_name": "default", "job_variables": {}},
    "docker": {
        "name": "tradeloom-docker",
        "work_queue_name": "default",
        "job_variables": {"image": "{{ $TRADELOOM_IMAGE }}", "env": {"TRADELOOM_HOME": "/data/tradeloom"}},
    },
    "kubernetes": {
        "name": "tradeloom-kubernetes",
        "work_queue_name": "default",
        "job_variables": {"image": "{{ $TRADELOOM_IMAGE }}", "env": {"TRADELOOM_HOME": "/data/tradeloom"}},
    },
}
HEADER = """\
# Generated from tradeloom/deployments/registry.py by `tradeloom deployments yaml`: do not edit.
#
# The same deployments the embedded `serve` runs, for work pools. Every deployment targets the
# process pool; pick another pool at deploy time, for example:
#   prefect work-pool create tradeloom-docker --type docker
#   TRADELOOM_IMAGE=registry.example/tradeloom:0.1.0 prefect deploy --all --pool tradeloom-docker
# Scale-out: point PREFECT_API_URL at a server backed by PostgreSQL, and TRADELOOM_HOME at shared storage.
"""


def render() -> str:
    """The prefect.yaml text for every registered deployment."""
    document = {
        "name": "tradeloom",
        "prefect-version": "3.8.8",
        "build": None,
        "push": None,
        "pull": [{"prefect.deployments.steps.set_working_directory": {"directory": "{{ $TRADELOOM_REPO_DIR }}"}}],
        "definitions": {"work_pools": WORK_POOLS},
        "deployments": [
            {
                "name": spec.name,
                "entrypoint": spec.entrypoint,
                "description": spec.description,
                "tags": list(spec.tags),
                "parameters": dict(spec.parameters),
                "schedules": [{"cron": spec.cron, "timezone": "UTC"}] if spec.cron else [],
                "work_pool": WORK_POOLS["process"],
            }
            for spec in DEPLOYMENTS
        ],
    }
    return HEADER + yaml.safe_dump(document, sort_keys=False, width=120)


def write(path: Path) -> Path:
    """Write the rendered prefect.yaml to ``path``."""
    path.write_text(render())
    return path
