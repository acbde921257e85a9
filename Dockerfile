# The botarena image: the platform installed from this project at the versions uv.lock pins,
# run as an unprivileged user, `botarena` as the entry point (serve, executor, migrate...).
#
#   docker build -t botarena .
#
# Offline (no package index reachable): put every wheel the build needs in a folder of the
# build context and name it, e.g. `--build-arg WHEELHOUSE=wheelhouse` (the tests do this:
# tests/deploy/test_image.py). The wheels are those of `uv export --frozen --no-dev`, uv itself
# and hatchling with its dependencies (the project's build backend).
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ARG WHEELHOUSE=
ARG UV_VERSION=0.13.9
# 0 skips compiling the installed modules (faster builds; slower first imports at each start)
ARG COMPILE_BYTECODE=1
WORKDIR /src
COPY . .
RUN set -eu; \
    offline=""; \
    if [ -n "$WHEELHOUSE" ]; then offline="--no-index --find-links /src/$WHEELHOUSE"; fi; \
    python3 -m venv /opt/uv; \
    /opt/uv/bin/pip install --quiet --disable-pip-version-check $offline "uv==$UV_VERSION"; \
    /opt/uv/bin/uv export --frozen --no-dev --no-emit-project --quiet -o /tmp/requirements.txt; \
    /opt/uv/bin/uv venv --quiet --python /usr/local/bin/python3 /opt/botarena; \
    export VIRTUAL_ENV=/opt/botarena UV_NO_CACHE=1 UV_COMPILE_BYTECODE="$COMPILE_BYTECODE"; \
    /opt/uv/bin/uv pip install --quiet $offline --no-deps --require-hashes -r /tmp/requirements.txt; \
    /opt/uv/bin/uv pip install --quiet $offline --no-deps /src

FROM ${PYTHON_IMAGE}
COPY --from=build /opt/botarena /opt/botarena
# uid and gid 10001: not root, and no user of the base image. /data is the data folder (a
# volume in Kubernetes); everything else stays read-only to the process.
RUN echo 'botarena:x:10001:10001:botarena:/home/botarena:/usr/sbin/nologin' >> /etc/passwd \
    && echo 'botarena:x:10001:' >> /etc/group \
    && python3 -c "import os; [(os.makedirs(p, exist_ok=True), os.chown(p, 10001, 10001)) for p in ('/data', '/home/botarena')]"
ENV PATH=/opt/botarena/bin:/usr/local/bin:/usr/bin:/bin \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/botarena \
    BOTARENA_DATA_DIR=/data
USER 10001:10001
WORKDIR /data
EXPOSE 8000
ENTRYPOINT ["botarena"]
CMD ["serve", "--public", "--host", "0.0.0.0", "--port", "8000"]
