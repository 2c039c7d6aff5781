#!/usr/bin/env bash
# Whole-space NASWOT sweep of NAS-Bench-201 as a Slurm job array: one GPU task per shard, then one
# dependent job that merges the shard files and checks that every index is there exactly once.
#
#   bash examples/slurm_sweep.sh [SHARDS] [OUTDIR]      # submits both jobs (default 16, ./sweep)
#
# Each array task runs `naswot sweep` without --shard: naswot takes shard
# (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_COUNT, so the array must be
# contiguous without a step (--array=0-N). --resume makes a requeued or resubmitted task continue
# its file instead of starting over; a task killed at its time limit (SIGTERM) finishes its group
# and exits 130. Resubmit the same script to finish the missing shards: complete ones score
# nothing. Adjust the partition, account and time to your cluster.
set -euo pipefail
shards=${1:-16}
outdir=${2:-sweep}
naswot=${NASWOT:-$(pwd)/build/tools/naswot}
mkdir -p "$outdir"
# The settings that decide the scores; every shard must use the same ones (merge checks).
settings=(--space nb201 --data synthetic --batch 128 --seed 1 --counting reference)

array_job=$(sbatch --parsable \
  --job-name=naswot-sweep --array=0-$((shards - 1)) \
  --gres=gpu:1 --cpus-per-task=4 --time=01:00:00 --requeue \
  --output="$outdir/slurm-%A_%a.out" \
  --wrap="$naswot sweep ${settings[*]} --output $outdir/shard-\$SLURM_ARRAY_TASK_ID.jsonl --resume")
echo "submitted array job $array_job ($shards shards)"

inputs=""
for ((i = 0; i < shards; ++i)); do inputs+=" $outdir/shard-$i.jsonl"; done
merge_job=$(sbatch --parsable \
  --job-name=naswot-merge --dependency=afterok:"$array_job" --time=00:10:00 \
  --output="$outdir/slurm-merge-%j.out" \
  --wrap="$naswot merge $outdir/nb201.jsonl$inputs")
echo "submitted merge job $merge_job -> $outdir/nb201.jsonl"
