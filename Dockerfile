FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY content ./content
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 explainer \
    && mkdir -p /app/data && chown explainer:explainer /app/data

USER explainer
ENV DATABASE_URL=sqlite+aiosqlite:////app/data/explainer.db \
    API_HOST=0.0.0.0 \
    API_PORT=8080
VOLUME ["/app/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)" || exit 1
CMD ["explainer-bot", "run"]
