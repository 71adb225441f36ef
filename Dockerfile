# The operator image: the package and its runtime dependencies only (no dev extras, no test binaries).
# Build: make docker-build IMG=quay.io/<org>/glance-operator:<tag>
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY glance_operator ./glance_operator
RUN pip install --no-cache-dir --upgrade pip \
 && pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# kubebuilder's non-root uid; the Deployment also sets runAsNonRoot and a read-only root filesystem
USER 65532:65532
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
ENTRYPOINT ["glance-operator"]
CMD ["run"]
