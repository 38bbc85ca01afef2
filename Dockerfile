# contact-api-emulator as a CI service container / local dev stand-in.
#
#   docker build -t contact-api-emulator .
#   docker run --rm -p 8080:8080 contact-api-emulator
#
# Configuration is by EMULATOR_* environment variables (see README, "Container").
# Own fixtures: mount a folder (or one file) at /fixtures and set EMULATOR_FIXTURE=<name>.

# ---- build: a wheel that carries the code and the shipped fixtures ----------------------
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY emulator/ emulator/
COPY fixtures/ fixtures/
RUN pip wheel --no-cache-dir --disable-pip-version-check --wheel-dir /wheels .

# ---- runtime ---------------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels /wheels/contact_api_emulator-*.whl \
    && rm -rf /wheels \
    && groupadd --gid 10001 emulator \
    && useradd --create-home --uid 10001 --gid 10001 emulator \
    && mkdir -p /data \
    && chown emulator:emulator /data

# The shipped fixtures, at the documented mount point for your own.
COPY --chown=emulator:emulator fixtures/ /fixtures/

# Bind every interface inside the container only; outside, publish the port you want.
ENV EMULATOR_HOST=0.0.0.0 \
    EMULATOR_PORT=8080 \
    EMULATOR_FIXTURE=default \
    EMULATOR_FIXTURES_DIR=/fixtures \
    EMULATOR_SEED=0 \
    EMULATOR_LOG_LEVEL=info \
    EMULATOR_SERVER=waitress \
    EMULATOR_THREADS=8

USER 10001:10001
WORKDIR /home/emulator
EXPOSE 8080

HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=6 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('EMULATOR_PORT', '8080') + '/_emulator/health', timeout=2)"]

ENTRYPOINT ["contact-emulator"]
CMD ["serve"]
