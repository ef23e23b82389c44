"""The vLLM engine side of the inference service: serving profiles (checked YAML files in
``inference/profiles/``), their validation against vLLM's own argument parser, the launcher that
starts vLLM's OpenAI server from a profile in the separate vLLM venv and waits for health, and
the load benchmark for any OpenAI-compatible endpoint. Nothing here imports vLLM; the vLLM side
runs as a subprocess of the vLLM venv's python."""
