# The product's two images, one target each, built from one wheel:
#
#   company-exports           (target app)      export-api (the default CMD), export-operator,
#                                               export-db, export-api-admin
#   company-exports-exporter  (target exporter) company-exporter as ENTRYPOINT, with only the
#                                               exporter's dependencies, for the export Jobs
#
#   docker build --target app -t company-exports:0.1.0 .
#   docker build --target exporter -t company-exports-exporter:0.1.0 .
#
# Without Docker, `make images` builds both with buildah on a base made from Debian's packages
# (local-cluster/local_cluster/image_build.py).
#
# The base is pinned to an exact release; CI should also pin its digest (python@sha256:...). Any
# Debian-like base with python3 and its venv module works: the official image's python3 is
# /usr/local/bin/python3 (with pip), Debian's is /usr/bin/python3 (pip only as ensurepip's wheel),
# so every step calls `python3` and the pip removal is guarded.
ARG BASE_IMAGE=python:3.11.11-slim-bookworm

# pip trusts the certificates of the build's own secret "ca-certificates" when one is given
# (`--secret id=ca-certificates,src=...`; `make images` passes the host's bundle, for networks whose
# TLS proxy has its own authority); the secret is mounted for the step only, never stored in a
# layer. Without it, pip uses the base's bundle.
#
# The wheel, built from the source tree; the images install the project from it and nothing else.
FROM ${BASE_IMAGE} AS wheel
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python3 -m venv /opt/build
COPY pyproject.toml README.md ./
COPY api/export_api api/export_api
COPY operator/export_operator operator/export_operator
COPY job-image/company_exporter job-image/company_exporter
COPY contracts/export_contracts contracts/export_contracts
COPY storage/export_storage storage/export_storage
COPY database/export_database database/export_database
COPY webhooks/export_webhooks webhooks/export_webhooks
# The exporter's dependencies with the version ranges pyproject.toml pins (one source of truth).
RUN --mount=type=secret,id=ca-certificates \
    if [ -s /run/secrets/ca-certificates ]; then export PIP_CERT=/run/secrets/ca-certificates; fi \
    && /opt/build/bin/pip wheel --quiet --no-deps --wheel-dir /wheels . \
    && python3 -c 'import re, tomllib; \
wanted = {"pydantic", "pydantic-settings", "psycopg", "boto3", "isal", "polars", \
          "adbc-driver-manager", "adbc-driver-postgresql"}; \
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]; \
print("\n".join(d for d in deps if re.split(r"[<>=!~\[ ;]", d)[0] in wanted))' \
    > /wheels/exporter-requirements.txt

# ADBC's PostgreSQL driver compiled with optimization from third_party/arrow-adbc, as the wheel
# both images install (PyPI's wheels of it are compiled without; see that folder's README.md).
FROM ${BASE_IMAGE} AS adbc-driver
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
       g++ cmake ninja-build pkg-config libpq-dev >/dev/null \
    && python3 -m venv /opt/build
COPY third_party/arrow-adbc /src/arrow-adbc
RUN --mount=type=secret,id=ca-certificates \
    if [ -s /run/secrets/ca-certificates ]; then export PIP_CERT=/run/secrets/ca-certificates; fi \
    && /src/arrow-adbc/build-wheel.sh /adbc-wheels /opt/build/bin/pip

# What both images start from: the base without any package installer, a fixed non-root user,
# and libpq, which the compiled ADBC driver links (PyPI's wheel carried a copy of its own). The
# user 65532 has a name (`nonroot`, as in distroless images): a program that asks who it runs as
# gets an answer (kopf names its peering identity after the user when it runs outside a Pod).
FROM ${BASE_IMAGE} AS runtime
RUN if python3 -m pip --version >/dev/null 2>&1; then \
      python3 -m pip uninstall --yes --quiet pip setuptools wheel; \
    fi \
    && echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/usr/sbin/nologin' >> /etc/passwd \
    && echo 'nonroot:x:65532:' >> /etc/group \
    && rm -rf /usr/share/python-wheels /usr/local/lib/python3*/ensurepip/_bundled \
    && apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libpq5 \
       >/dev/null \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /tmp

# Each image's virtualenv: the wheel (not the source, not editable) and its dependencies; the
# local cluster's code is test tooling, kept out of the build context (so out of the wheel built
# here); its console script, which the wheel's metadata still names, is removed; bytecode is compiled now because the
# root filesystem is read-only at run time ("unchecked-hash": valid whatever the files' mtimes
# after COPY); pip, setuptools and wheel leave with the build stage. The exporter's botocore keeps
# the service models of S3 and STS only (STS: web-identity credentials): making a client lists
# every service's folder of botocore's data (~0.015 s of each export's start-up for 400 of them),
# and the others are 21 MB of models it never loads.
FROM ${BASE_IMAGE} AS exporter-build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/company-exporter
COPY --from=wheel /wheels /wheels
COPY --from=adbc-driver /adbc-wheels /wheels
RUN --mount=type=secret,id=ca-certificates \
    if [ -s /run/secrets/ca-certificates ]; then export PIP_CERT=/run/secrets/ca-certificates; fi \
    && /opt/company-exporter/bin/pip install --quiet --no-deps /wheels/company_exports-*.whl \
    && /opt/company-exporter/bin/pip install --quiet -r /wheels/exporter-requirements.txt \
       /wheels/adbc_driver_postgresql-*.whl \
    && /opt/company-exporter/bin/pip uninstall --yes --quiet pip setuptools wheel \
    && rm /opt/company-exporter/bin/local-cluster \
    && find /opt/company-exporter/lib/python3*/site-packages/botocore/data -mindepth 1 \
       -maxdepth 1 -type d ! -name s3 ! -name sts -exec rm -r {} + \
    && /opt/company-exporter/bin/python3 -m compileall -q --invalidation-mode unchecked-hash \
       /opt/company-exporter/lib

FROM runtime AS exporter
COPY --from=exporter-build /opt/company-exporter /opt/company-exporter
ENV PATH=/opt/company-exporter/bin:$PATH
USER 65532:65532
ENTRYPOINT ["company-exporter"]

FROM ${BASE_IMAGE} AS app-build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/company-exports
COPY --from=wheel /wheels /wheels
COPY --from=adbc-driver /adbc-wheels /wheels
RUN --mount=type=secret,id=ca-certificates \
    if [ -s /run/secrets/ca-certificates ]; then export PIP_CERT=/run/secrets/ca-certificates; fi \
    && /opt/company-exports/bin/pip install --quiet /wheels/company_exports-*.whl \
       /wheels/adbc_driver_postgresql-*.whl \
    && /opt/company-exports/bin/pip uninstall --yes --quiet pip setuptools wheel \
    && rm /opt/company-exports/bin/local-cluster \
    && /opt/company-exports/bin/python3 -m compileall -q --invalidation-mode unchecked-hash \
       /opt/company-exports/lib

FROM runtime AS app
COPY --from=app-build /opt/company-exports /opt/company-exports
ENV PATH=/opt/company-exports/bin:$PATH
USER 65532:65532
EXPOSE 8000 8080 9090
# The chart names each container's command (export-operator, export-db, ...); this runs the API.
CMD ["export-api"]
