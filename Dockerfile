# The platform's image: Debian's Python 3.11 and PostgreSQL client, the app's dependencies from PyPI.
# One image for the web app, the relay and the workers (compose.yaml); the database and Redis targets
# below are Debian's own packages too, so nothing comes from anywhere but Debian and PyPI.
#   docker build -t hanoi-agents .            docker compose up --build
FROM debian:bookworm-slim AS base
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/*

FROM base AS app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv postgresql-client \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH VIRTUAL_ENV=/opt/venv
WORKDIR /srv/hanoi-agents
COPY requirements.txt ./
RUN pip install --no-cache-dir --disable-pip-version-check -r requirements.txt
COPY . .
RUN rm -rf .venv instance && pybabel compile -d translations \
 && useradd --system --home-dir /var/lib/hanoi-agents --create-home hanoi \
 && install -d -o hanoi -g hanoi /var/lib/hanoi-agents/documents /var/lib/hanoi-agents/instance
USER hanoi
ENV FLASK_APP=wsgi INSTANCE_DIR=/var/lib/hanoi-agents/instance DOCUMENT_STORAGE_DIR=/var/lib/hanoi-agents/documents \
    GUNICORN_BIND=0.0.0.0:8000 OUTBOX_THREAD=0 LOG_FORMAT=json
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python3 -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]

# PostgreSQL from Debian (compose.yaml's "db"): a data directory in a volume, trust on the compose network only.
FROM base AS postgres
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/*
COPY deploy/docker/postgres-entrypoint.sh /usr/local/bin/
RUN install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data
USER postgres
ENV PGDATA=/var/lib/postgresql/data
EXPOSE 5432
CMD ["/usr/local/bin/postgres-entrypoint.sh"]

# Redis from Debian (compose.yaml's "redis").
FROM base AS redis
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/*
USER redis
EXPOSE 6379
CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--appendonly", "yes", "--dir", "/var/lib/redis"]
