"""The embedded default: one process serving every deployment of the registry with its schedule."""

from __future__ import annotations

from prefect import serve

from tradeloom.deployments.registry import DEPLOYMENTS


def serve_all() -> None:
    """Serve every registered deployment until interrupted (needs a Prefect server: PREFECT_API_URL)."""
    serve(
        *(
            spec.flow.to_deployment(
                name=spec.name,
                cron=spec.cron,
                parameters=spec.parameters or None,
                description=spec.description,
                tags=list(spec.tags),
            )
            for spec in DEPLOYMENTS
        ),
        print_starting_message=False,
    )


if __name__ == "__main__":
    serve_all()
