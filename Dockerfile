# newsradar worker image: `docker build -t newsradar .`
# Runs `newsradar worker` (needs kafka.bootstrap_servers) as an unprivileged user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies and package first, configuration last: editing a config keeps the layer cache.
# The analysis modules are compiled with mypyc (setup.py), and on arm64 faust-streaming builds
# from source, hence a C compiler for the install only (removed in the same layer).
COPY pyproject.toml setup.py README.md ./
COPY src ./src
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install . \
    && apt-get purge -y --auto-remove gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/* /root/.cache

COPY config ./config
COPY deploy/newsradar.compose.yaml ./deploy/newsradar.compose.yaml

RUN useradd --system --uid 10001 --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin newsradar
USER newsradar

# /metrics, /healthz, /readyz (metrics.port; set metrics.host to 0.0.0.0 in containers).
EXPOSE 9108

# Process alive = /healthz answers. Kafka connectivity is /readyz, for orchestrators that
# route traffic; a worker waiting for Kafka is alive, not unhealthy.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ.get('NEWSRADAR_HEALTHCHECK_URL', 'http://127.0.0.1:9108/healthz'), timeout=4)"]

ENTRYPOINT ["newsradar"]
CMD ["worker", "--config", "/app/config/newsradar.yaml"]
