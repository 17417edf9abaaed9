# Wugong: migrate, then serve with several workers. Build: docker build -t wugong .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    WUGONG_ENV=production WUGONG_DATA_DIR=/data WUGONG_WORKERS=4

RUN useradd --create-home --uid 10001 wugong && mkdir -p /data && chown wugong /data
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY web ./web
RUN pip install .

USER wugong
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status == 200 else 1)"
# WUGONG_SECRET_KEY and WUGONG_DATABASE_URL must be given at run time; production refuses to start without a key.
CMD ["sh", "-c", "wugong migrate && exec wugong serve --host 0.0.0.0 --port 8000 --workers ${WUGONG_WORKERS}"]
