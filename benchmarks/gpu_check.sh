#!/usr/bin/env bash
# The GPU checks in one run (a machine with an NVIDIA GPU, CuPy, JAX with CUDA and PyTorch
# with CUDA installed; chainorder from this checkout). Writes logs and Markdown tables to
# ${OUT:-gpu-out}/. Each step has its own time limit; a failed step does not stop the others.
#   bash benchmarks/gpu_check.sh
#   STEPS="tests-engine-every-case tests-gpu" bash benchmarks/gpu_check.sh   # some steps only
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # JAX shares the GPU with CuPy and torch
OUT="${OUT:-gpu-out}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
# Steps run in the order below, issue 12's open GPU rows first (torch hourglass <= 0.5x, wide-out
# peak, JAX residual peak); issue 8's CuPy engine checks (passed on an H200 in session 5) last.
STEPS="${STEPS:-tests-gpu frameworks-gpu-key torch-overhead-gpu bench-frameworks-gpu \
bench-engine-gpu tests-engine-every-case}"
step() {  # step NAME SECONDS COMMAND...: run, log to $OUT/NAME.log, report status and time
    local name=$1 limit=$2; shift 2
    [[ " $STEPS " == *" $name "* ]] || return 0
    local t0=$SECONDS
    timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
    echo "$name: exit $? in $((SECONDS - t0)) s" | tee -a "$OUT/summary.txt"
}
{ nvidia-smi -L; "$PY" -c "import sys, numpy, cupy, jax, torch; print(sys.version.split()[0], \
'numpy', numpy.__version__, 'cupy', cupy.__version__, 'jax', jax.__version__, jax.devices(), \
'torch', torch.__version__, torch.cuda.is_available())"; } >"$OUT/summary.txt" 2>&1
# chainorder.torch on CUDA (never run on a GPU before session 8's tests), chainorder.jax's timed
# choice on JAX's default device (the GPU here), the CuPy paths
step tests-gpu 150 "$PY" -m pytest -q -p no:cacheprovider -o addopts=-ra tests/test_torch_cuda.py \
    tests/test_gpu.py tests/test_engine_cupy.py tests/test_graph_program.py \
    tests/test_jax_jacobian.py -k "cuda or cupy or gpu or measure or tie"
step frameworks-gpu-key 150 "$PY" benchmarks/bench_frameworks.py --repeat 5 --devices cuda \
    --cases hourglass,mlp-wide-out,residual --out "$OUT/frameworks_gpu_key.md"
step torch-overhead-gpu 100 "$PY" benchmarks/bench_torch_overhead.py --device cuda --repeat 3 \
    --cases hourglass-256,wide-out-64,hourglass,mlp-wide-out --out "$OUT/torch_overhead_gpu.md"
step bench-frameworks-gpu 170 "$PY" benchmarks/bench_frameworks.py --repeat 3 --devices cuda \
    --cases mlp-wide-in,transformer,cnn,loss --out "$OUT/frameworks_gpu.md"
step bench-engine-gpu 140 "$PY" benchmarks/bench_engine.py --backend cupy --repeat 5 \
    --out "$OUT/engine_gpu.md"
step tests-engine-every-case 130 "$PY" -m pytest -q -p no:cacheprovider -o addopts=-ra \
    tests/test_engine_fake_cupy.py -k "not stand"
tail -n 3 "$OUT"/*.log >>"$OUT/summary.txt"
