# The service image: CPU by default. Models are assembled and sha256-verified at build time,
# never downloaded at run time.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

# For a GPU image: --build-arg BASE_IMAGE=<a CUDA devel image with Python 3.11>
#                  --build-arg LLAMA_CMAKE_ARGS="-DGGML_CUDA=on"
ARG LLAMA_CMAKE_ARGS=""
# Extra pip options for the torch install, e.g. an index or mirror that serves CPU-only wheels.
ARG TORCH_PIP_OPTIONS=""

RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake git \
    libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui \
 && (command -v python3.11 || apt-get install -y --no-install-recommends python3.11 python3.11-venv python3.11-dev) \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY rag ./rag
COPY ingest ./ingest
COPY api ./api
COPY scripts ./scripts
COPY examples ./examples
COPY tests ./tests

ENV PYTHON=python3.11 \
    RAG_MODELS_DIR=/models \
    RAG_DATA_DIR=/data \
    CMAKE_ARGS=${LLAMA_CMAKE_ARGS} \
    TORCH_PIP_OPTIONS=${TORCH_PIP_OPTIONS}
RUN bash scripts/setup.sh && rm -rf /root/.cache/rag/wheels /root/.cache/pip

ENV PATH=/app/.venv/bin:$PATH
VOLUME ["/data"]
EXPOSE 8000
CMD ["rag", "serve", "--host", "0.0.0.0", "--port", "8000"]
