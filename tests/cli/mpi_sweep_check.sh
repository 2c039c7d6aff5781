#!/usr/bin/env bash
# CTest entry mpi.sweep_two_ranks (registered in tests/CMakeLists.txt only when MPI was found):
# `mpirun -n 2 naswot sweep` on the CPU must write one part file per rank, merge them into the
# output, cover shard 3/1000 exactly once (naswot merge re-checks the merged file) and give the
# same records as a single-process sweep of the same shard (the `seconds` field aside). A second
# run with --resume must score nothing and merge again.
#   mpi_sweep_check.sh MPIRUN NASWOT WORKDIR
set -euo pipefail
mpirun=$1
naswot=$2
work=$3
rm -rf "$work"
mkdir -p "$work"
cd "$work"
args=(sweep --backend cpu --batch 8 --image-size 16 --shard 3/1000)

"$mpirun" -n 2 --oversubscribe "$naswot" "${args[@]}" --output mpi.jsonl 2>&1 | tee mpi.log
for f in mpi.rank-0-of-2.jsonl mpi.rank-1-of-2.jsonl mpi.jsonl; do
  [ -s "$f" ] || { echo "FAIL: $f missing or empty"; exit 1; }
done
grep -q '"part":"1/2"' mpi.rank-1-of-2.jsonl || { echo "FAIL: rank 1's part header lacks part 1/2"; exit 1; }
grep -q "merged 2 part files (16 records)" mpi.log || { echo "FAIL: rank 0 did not report the merge"; exit 1; }
"$naswot" merge check.jsonl mpi.jsonl  # the merged file covers shard 3/1000 exactly once

"$naswot" "${args[@]}" --output single.jsonl
strip() { tail -n +2 "$1" | sed 's/,"seconds":[^,}]*//'; }
if ! diff <(strip single.jsonl) <(strip mpi.jsonl); then
  echo "FAIL: the MPI sweep's records differ from the single-process sweep's"
  exit 1
fi
[ "$(head -1 mpi.jsonl)" = "$(head -1 single.jsonl)" ] || { echo "FAIL: headers differ"; head -1 mpi.jsonl single.jsonl; exit 1; }

"$mpirun" -n 2 --oversubscribe "$naswot" "${args[@]}" --output mpi.jsonl --resume 2>&1 | tee resume.log
grep -q "nothing left to score" resume.log || { echo "FAIL: the resumed MPI sweep scored again"; exit 1; }
diff <(strip single.jsonl) <(strip mpi.jsonl) >/dev/null || { echo "FAIL: re-merge changed the records"; exit 1; }
echo "PASS: 2 MPI ranks, 16 records, same as one process"
