#!/usr/bin/env bash
# One command for the GPU machine: install muonjax (no network, dependencies already
# there) and run the device check; the JSON lands in the folder given (default: .).
#   bash benchmarks/gpu_check.sh OUT_DIR [--small]
set -euo pipefail
out="${1:-.}"
shift || true
cd "$(dirname "$0")/.."
python -m pip install -q -e . --no-deps --no-build-isolation
PYTHONUNBUFFERED=1 python benchmarks/gpu_check.py --out "$out" "$@"
