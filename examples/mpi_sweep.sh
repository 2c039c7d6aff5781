#!/usr/bin/env bash
# Whole-space NASWOT sweep of NAS-Bench-201 with MPI: K ranks, each scoring slice r/K into its own
# part file (OUTPUT.rank-r-of-K.jsonl) on the GPU of its node-local rank; rank 0 merges the parts
# into OUTPUT once all are complete, checking that every index is there exactly once.
#
#   bash examples/mpi_sweep.sh [RANKS] [OUTPUT]          # default: one rank per GPU, nb201.jsonl
#
# Needs a naswot built with MPI (CMake -DNASWOT_MPI=AUTO finds Debian's libopenmpi-dev). Rerun the
# same command after an interruption: --resume continues the part files (keep them until the
# merge succeeded). Under Slurm use `srun --mpi=pmix naswot sweep ...` inside an allocation
# instead of mpirun. On a CPU-only machine pass --backend cpu and set OMP_NUM_THREADS to the cores
# per rank.
set -euo pipefail
gpus=$(nvidia-smi -L 2>/dev/null | wc -l || true)
ranks=${1:-$((gpus > 0 ? gpus : 2))}
output=${2:-nb201.jsonl}
naswot=${NASWOT:-$(pwd)/build/tools/naswot}

mpirun -n "$ranks" "$naswot" sweep \
  --space nb201 --data synthetic --batch 128 --seed 1 --counting reference \
  --output "$output" --resume
