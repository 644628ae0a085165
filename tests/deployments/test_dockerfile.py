"""The work-pool image installs exactly what scripts/bootstrap.sh installs, and bakes in no secrets."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = (REPO / "Dockerfile").read_text()
BOOTSTRAP = (REPO / "scripts" / "bootstrap.sh").read_text()


def instructions(text: str) -> list[str]:
    """Dockerfile instructions, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def uv_pin(text: str) -> str:
    [pin] = set(re.findall(r'"uv==([0-9][0-9.]*)"', text))
    return pin


def synced_lock(text: str) -> str:
    [lock] = set(re.findall(r"uv pip sync [^\n]*?(\S+\.lock)\b", text))
    return lock


def test_the_image_installs_the_bootstrap_lock_with_the_bootstrap_uv():
    assert synced_lock(DOCKERFILE) == synced_lock(BOOTSTRAP) == "requirements.lock"
    assert uv_pin(DOCKERFILE) == uv_pin(BOOTSTRAP)
    steps = instructions(DOCKERFILE)
    assert f"COPY {synced_lock(BOOTSTRAP)} ./" in steps
    # tradeloom itself without dependencies, like bootstrap: nothing outside the lock gets in.
    assert re.search(r"uv pip install\b[^\n]*--no-deps \.", DOCKERFILE)
    assert "--no-deps" in re.search(r"uv pip install [^\n]*-e \.", BOOTSTRAP).group(0)
    assert not re.search(r"\bpip install\b(?![^\n]*(uv==|--no-deps))", DOCKERFILE)
    # Installed as bytecode: under PYTHONDONTWRITEBYTECODE every import would otherwise compile from source.
    assert "--compile-bytecode" in re.search(r"uv pip sync [^\n]*", DOCKERFILE).group(0)
    assert "--compile-bytecode" in re.search(r"uv pip sync [^\n]*", BOOTSTRAP).group(0)


def test_the_image_runs_the_python_the_project_requires():
    assert instructions(DOCKERFILE)[0] == "FROM python:3.11-slim"
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11,<3.12"


def test_no_secret_is_baked_into_the_image():
    settings = " ".join(s for s in instructions(DOCKERFILE) if s.startswith(("ENV", "ARG")))
    assert not re.search(r"(KEY|SECRET|TOKEN|PASSWORD|CRUMB)\w*=", settings, re.IGNORECASE)
    assert not re.search(r"COPY[^\n]*\.env\b", DOCKERFILE)
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    assert ".env" in ignored and ".env.*" in ignored and ".tradeloom" in ignored


def test_the_image_keeps_state_where_the_work_pools_put_it():
    from tradeloom.deployments.prefect_yaml import WORK_POOLS

    for pool in ("docker", "kubernetes"):
        assert f"TRADELOOM_HOME={WORK_POOLS[pool]['job_variables']['env']['TRADELOOM_HOME']}" in DOCKERFILE
    # prefect.yaml's pull step changes into $TRADELOOM_REPO_DIR, where the image keeps the source.
    assert "TRADELOOM_REPO_DIR=/opt/tradeloom" in DOCKERFILE and "WORKDIR /opt/tradeloom" in instructions(DOCKERFILE)
