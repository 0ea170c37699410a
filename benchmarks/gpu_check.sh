#!/usr/bin/env bash
# The GPU check in one script, for a machine with an NVIDIA GPU (CUDA 12 driver):
#   bash benchmarks/gpu_check.sh [OUT_DIR]
# It installs the kit with a CUDA JAX into a fresh virtual environment, then, on the GPU:
#   1. every lesson against the reference (must pass) and against its untouched stub (must fail);
#   2. the kit's own tests;
#   3. the example class graded by the sandboxed class grader with --platform cuda.
# Each step's time goes to OUT_DIR/timings.txt; the logs to OUT_DIR/*.log. Any failure stops it.
# GPU_CHECK_PLATFORM=cpu runs the same steps without CUDA (to try the script on any machine).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mkdir -p "${1:-gpu-check}" && cd "${1:-gpu-check}" && pwd)
python3 -m venv "$out/venv"
py="$out/venv/bin/python"
platform=${GPU_CHECK_PLATFORM:-cuda}
if [ "$platform" = cuda ]; then
  "$py" -m pip install -q -e ".[instructor,cuda12]"  # the CUDA build within the kit's bounds
else
  "$py" -m pip install -q -e ".[instructor]"
fi
export JAX_PLATFORMS=$platform
"$py" -c "import jax; d = jax.devices(); print(d); assert '$platform' == 'cpu' or d[0].platform == 'gpu', 'no GPU seen'" \
  | tee "$out/devices.txt"

timed() {  # timed NAME EXPECTED_STATUS COMMAND...
  local name=$1 want=$2; shift 2
  local start=$SECONDS status=0
  "$@" > "$out/$name.log" 2>&1 || status=$?
  echo "$name: $((SECONDS - start)) s, exit $status (expected $want)" | tee -a "$out/timings.txt"
  [ "$status" = "$want" ] || { tail -40 "$out/$name.log"; exit 1; }
}

stubs="$out/stubs"
"$py" -c "from pathlib import Path; from grader import stubs; stubs.write_stubs(Path('$stubs'))"
for lesson in lessons/[0-9][0-9]; do
  n=$(basename "$lesson")
  timed "lesson$n-reference" 0 "$py" -m pytest "lessons/$n" --target solutions -q -p no:cacheprovider
  timed "lesson$n-stub" 1 "$py" -m pytest "lessons/$n" --target "$stubs" -q -p no:cacheprovider
done
timed kit-tests 0 "$py" -m pytest tests -q -p no:cacheprovider
timed example-class 0 "$py" -m grader grade-example --out "$out/course"
timed class-grader 0 "$py" -m grader grade "$out/course/submitted" --out "$out/graded" \
  --platform "$platform" --regrade -q
cat "$out/graded/grades.csv"
