#!/usr/bin/env bash
# The GPU check (issue 18): run where a CUDA GPU is available, in under 10 minutes, from the repository root:
#
#     bash benchmarks/gpu_check.sh [OUT_DIR]
#
# 1. `exgen verify --device cuda` on a 100-problem medium key per topic (parallelism: 20 problems; its
#    process group runs on NCCL when the machine has a GPU per rank, on gloo otherwise — the output says which);
# 2. `exgen roofline --device cuda` against the GPU's datasheet, with a PNG;
# 3. the GPU-only tests.
# It prints one summary table at the end and writes every log under OUT_DIR (default: gpu-check/).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-gpu-check}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PIP_DISABLE_PIP_VERSION_CHECK=1

# Use a Python that already has a CUDA torch; else install into a venv (needs the package index).
PY=python3
if ! $PY -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  if [ ! -x .venv-gpu/bin/python ]; then
    python3 -m venv .venv-gpu && .venv-gpu/bin/pip install -q "torch>=2.2,<3" && .venv-gpu/bin/pip install -q -e '.[verify,test]' \
      || { echo "gpu_check: no CUDA torch here and it could not be installed" >&2; exit 2; }
  fi
  PY=.venv-gpu/bin/python
fi
$PY -c 'import jinja2, click, yaml, pint, sympy, matplotlib' 2>/dev/null || $PY -m pip install -q -e '.[verify,test]'
$PY - <<'PYEOF' | tee "$OUT/device.txt"
import torch
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.device_count()} GPU(s): "
      + ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())))
print("NCCL available:", torch.distributed.is_nccl_available())
PYEOF

declare -A RESULT SECONDS_TAKEN
for topic in quantization autodiff compute chinchilla intensity parallelism; do
  n=100; [ "$topic" = parallelism ] && n=20
  start=$(date +%s)
  $PY -m exgen make --topic "$topic" --n "$n" --difficulty medium --seed 1 --out "$OUT/$topic" >/dev/null 2>&1
  timeout 300 $PY -m exgen verify --device cuda "$OUT/$topic/key.json" >"$OUT/verify-$topic.txt" 2>&1
  rc=$?
  SECONDS_TAKEN[$topic]=$(( $(date +%s) - start ))
  RESULT[$topic]="$(tail -n 1 "$OUT/verify-$topic.txt") (exit $rc)"
done

timeout 300 $PY -m exgen roofline --device cuda --png "$OUT/roofline.png" >"$OUT/roofline.txt" 2>&1
roof_rc=$?
timeout 300 $PY -m pytest -q -p no:cacheprovider tests/test_roofline.py tests/test_verify_agreement.py >"$OUT/tests.txt" 2>&1
tests_rc=$?

echo
echo "== exgen GPU check =="
cat "$OUT/device.txt"
printf '%-14s %6s  %s\n' topic seconds "verify --device cuda"
for topic in quantization autodiff compute chinchilla intensity parallelism; do
  printf '%-14s %6s  %s\n' "$topic" "${SECONDS_TAKEN[$topic]}" "${RESULT[$topic]}"
done
echo
echo "roofline (exit $roof_rc):"
cat "$OUT/roofline.txt"
echo "tests (exit $tests_rc): $(tail -n 1 "$OUT/tests.txt")"
