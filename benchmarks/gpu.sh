#!/usr/bin/env bash
# The prepared GPU run, one call: the reference loop on the GPU, the project's configs/gpu.yaml
# in fp32 and bf16-mixed, epoch time against hidden and batch size, configs/best.yaml, and
# sequential/permuted MNIST (configs/smnist.yaml and pmnist.yaml, about 5 minutes together).
#
#   bash benchmarks/gpu.sh DATA_DIR [OUT_DIR]
#
# DATA_DIR holds MNIST/raw/. Every program's output is kept in OUT_DIR (default /tmp/gpu-bench).
# PARTS="reference project floor profile grid best sequential" (the default) picks the sections to run.
set -uo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: gpu.sh DATA_DIR [OUT_DIR]}
out=${2:-/tmp/gpu-bench}
mkdir -p "$out"
parts=" ${PARTS:-reference project floor profile grid best sequential} "
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
python3 -c "import torch, lightning; print('torch', torch.__version__, 'lightning', lightning.__version__)" | tee -a "$out/gpu.txt"

if [[ $parts == *" reference "* ]]; then
echo "== reference loop on the GPU, 2 epochs"
python3 benchmarks/reference_loop.py --data-dir "$data" --epochs 2 --device cuda > "$out/reference.txt" 2>&1
grep -E "EPOCH|RESULT" "$out/reference.txt"
fi

if [[ $parts == *" project "* ]]; then
for precision in 32-true bf16-mixed; do
  echo "== project, configs/gpu.yaml, batch 50, $precision, 3 epochs"
  python3 benchmarks/epoch_times.py --data-dir "$data" --hidden 64 --batch 50 --epochs 3 -- \
    --config configs/gpu.yaml --trainer.precision "$precision" > "$out/project-$precision.txt" 2>&1
  grep -E "^hidden|^\|" "$out/project-$precision.txt"
done
fi

if [[ $parts == *" floor "* ]]; then
echo "== one epoch, no validation: plain loop, bare Lightning, the project (configs/seed.yaml + gpu.yaml)"
python3 benchmarks/step_floor.py --device cuda --rounds 3 --data-dir "$data" > "$out/floor.txt" 2>&1
grep -E "^[0-9]+ steps|^\|" "$out/floor.txt"
fi

if [[ $parts == *" profile "* ]]; then
echo "== where a step's time goes: Lightning's SimpleProfiler, 1 epoch of configs/gpu.yaml"
python3 train.py fit --config configs/gpu.yaml --data.data_dir "$data" --trainer.max_epochs 1 \
  --trainer.profiler simple --trainer.default_root_dir "$out/profile" > "$out/profile.txt" 2>&1
grep -E "^\|  (Total|run_training_epoch|run_training_batch|\[)" "$out/profile.txt" | head -n 16 | cut -c1-200
fi

if [[ $parts == *" grid "* ]]; then
echo "== epoch time against hidden and batch size, configs/gpu.yaml"
python3 benchmarks/epoch_times.py --data-dir "$data" --hidden 64 128 256 --batch 50 256 1024 --epochs 2 -- \
  --config configs/gpu.yaml > "$out/grid.txt" 2>&1
grep -E "^hidden|^\|" "$out/grid.txt"
fi

if [[ $parts == *" best "* ]]; then
echo "== configs/best.yaml on the GPU"
start=$(date +%s.%N)
python3 train.py fit --config configs/best.yaml --config configs/gpu.yaml --data.data_dir "$data" \
  --trainer.default_root_dir "$out/best" > "$out/best-fit.txt" 2>&1
end=$(date +%s.%N)
echo "fit wall seconds: $(python3 -c "print(round($end - $start, 1))")"
python3 train.py test --config configs/gpu.yaml --data.data_dir "$data" --trainer.default_root_dir "$out/best" \
  --ckpt_path "$out/best/lightning_logs/version_0/checkpoints/last.ckpt" 2>&1 | grep -E "test/(acc|loss)"
tail -n 6 "$out/best-fit.txt"
fi

if [[ $parts == *" sequential "* ]]; then
echo "== sequential and permuted MNIST: configs/smnist.yaml and pmnist.yaml against a plain loop"
python3 benchmarks/sequential_gpu.py --data-dir "$data" --out "$out/sequential" -- --trainer.enable_progress_bar false \
  > "$out/sequential.txt" 2>&1
grep -E "plain loop|^\|" "$out/sequential.txt"
fi
