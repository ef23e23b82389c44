# The application image: API, workers, gateway and CLI (everything but the vLLM engine, which
# runs from its own image, see Dockerfile.vllm).
FROM python:3.11-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-thai-tlwg-ttf fontconfig \
    tesseract-ocr-eng tesseract-ocr-tha \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/lexledger
# CPU torch first, so nothing later resolves a CUDA build into the application image
RUN pip install --no-cache-dir "torch==2.13.0" --extra-index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY agents ./agents
COPY inference ./inference
COPY migrations ./migrations
RUN pip install --no-cache-dir -e .

ENV LEXLEDGER_ENV=prod
EXPOSE 8000 8100
CMD ["lexledger", "api", "--host", "0.0.0.0", "--port", "8000"]
