#!/usr/bin/env bash
# Installs everything LexLedger needs on a fresh Debian machine: system fonts for the Thai sample
# documents, the application's virtual environment (CPU torch only) and its dependencies.
set -euo pipefail
venv=${1:-.venv}

# Debian packages: Thai fonts for the Thai sample documents, Chromium for the browser tests
# (Playwright drives this one; it never downloads a browser of its own), Tesseract's English and
# Thai models for OCR of scanned pages (the engine itself comes with the tesserocr wheel)
missing=()
fc-list 2>/dev/null | grep -qi garuda || missing+=(fonts-thai-tlwg-ttf fontconfig)
[ -x /usr/bin/chromium ] || missing+=(chromium)
for lang in eng tha; do
  ls /usr/share/tesseract-ocr/*/tessdata/$lang.traineddata >/dev/null 2>&1 \
    || missing+=(tesseract-ocr "tesseract-ocr-$lang")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "warning: missing Debian packages ${missing[*]}: Thai samples, browser tests or OCR will not run" >&2
  fi
fi

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q -U pip
# torch first and pinned: the CPU build; nothing later may swap it for a CUDA build
"$venv/bin/pip" install -q "torch==2.13.0"
"$venv/bin/pip" install -q -e ".[dev]"
