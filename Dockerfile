# One image for the three programs: the API (`export-api`), the operator (`export-operator`) and the
# exporter the export Jobs run (`company-exporter`), plus `export-db` and `export-api-admin`.
#
# Why one image: the three are one Python distribution that shares its contracts (the
# CompanyExport spec and status, the exporter's parameters and result) and all its dependencies.
# Built once and tagged once, the API, the operator and the Jobs it creates always speak the same
# contract version, and there is one image to scan and sign. The chart names each container's
# command, so no ENTRYPOINT is needed; CMD runs the API. (job-image/Dockerfile builds a slimmer
# exporter-only image; the chart runs the export Jobs with it when exporter.image names it.)
#
#   docker build -t company-exports:0.1.0 .
#
# The base is pinned to an exact release; CI should also pin its digest (python@sha256:...).
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/company-exports
COPY pyproject.toml README.md ./
COPY api/export_api api/export_api
COPY operator/export_operator operator/export_operator
COPY job-image/company_exporter job-image/company_exporter
COPY contracts/export_contracts contracts/export_contracts
COPY database/export_database database/export_database
COPY local-cluster/local_cluster local-cluster/local_cluster
# Not editable, precompiled (the root filesystem is read-only at run time), and no pip left behind.
RUN /opt/company-exports/bin/pip install . \
    && /opt/company-exports/bin/python -m compileall -q /opt/company-exports/lib \
    && /opt/company-exports/bin/pip uninstall -y pip

FROM ${PYTHON_IMAGE}
# The runtime needs no package installer either.
RUN python -m pip uninstall --yes --quiet pip setuptools wheel
COPY --from=build /opt/company-exports /opt/company-exports
ENV PATH=/opt/company-exports/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# A fixed non-root user with no home; the chart adds runAsNonRoot and a read-only root filesystem.
USER 65532:65532
WORKDIR /tmp
EXPOSE 8000 8080 9090
CMD ["export-api"]
