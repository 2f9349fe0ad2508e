# pbgdpl-bot: one process serving every channel (Telegram polling or webhook, Zalo webhooks, /healthz).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PBGDPL_DATA_DIR=/data \
    PBGDPL_HTTP_HOST=0.0.0.0 \
    PBGDPL_HTTP_PORT=8080 \
    PBGDPL_CONSOLE=false

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY conversations ./conversations
COPY storage ./storage
COPY exports ./exports
COPY presets ./presets
RUN pip install --no-cache-dir . \
    && useradd --system --home /data --shell /usr/sbin/nologin pbgdpl \
    && mkdir -p /data && chown pbgdpl /data

USER pbgdpl
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=4)"
CMD ["sh", "-c", "pbgdpl migrate && exec pbgdpl run"]
