# The tradeloom image for the docker and kubernetes work pools in prefect.yaml
# (build it, push it, then deploy with TRADELOOM_IMAGE=<its name> TRADELOOM_REPO_DIR=/opt/tradeloom).
# The same lock file and uv pin as scripts/bootstrap.sh (a test keeps them equal). No secrets
# are baked in: keys come from Prefect Secret blocks or the job's environment at run time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    TRADELOOM_HOME=/data/tradeloom \
    TRADELOOM_REPO_DIR=/opt/tradeloom

WORKDIR /opt/tradeloom

RUN python -m venv /opt/venv \
 && /opt/venv/bin/python -m pip install --no-cache-dir "uv==0.13.9"

# Dependencies first, in their own layer: they change far less often than the code.
COPY requirements.lock ./
# Compiled to bytecode at build time: the image runs with PYTHONDONTWRITEBYTECODE and a read-only venv.
RUN /opt/venv/bin/uv pip sync --no-cache --compile-bytecode --python /opt/venv/bin/python requirements.lock

# The flows' entrypoints (tradeloom/flows/...) are loaded from this directory, so the source stays here.
COPY pyproject.toml README.md ./
COPY tradeloom ./tradeloom
RUN /opt/venv/bin/uv pip install --no-cache --compile-bytecode --python /opt/venv/bin/python --no-deps .

RUN useradd --create-home --uid 10001 tradeloom \
 && mkdir -p /data/tradeloom \
 && chown tradeloom /data/tradeloom
USER tradeloom
# The market store and the SQLite ledger (with the kill switch) live here: mount shared storage, or
# set TRADELOOM_LEDGER_URL to PostgreSQL, so state outlives the container and the CLI reaches it.
VOLUME ["/data/tradeloom"]

CMD ["tradeloom", "--help"]
