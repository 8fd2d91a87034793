#!/usr/bin/env bash
# Runs package dist's MPI tests: builds the test binary with -tags mpi and runs it as
# every rank of mpirun jobs on this host: 2 and 4 ranks over shared memory, 2 ranks
# over TCP loopback (the transport between hosts), then jobs in which one rank hangs,
# exits or panics, which must fail within seconds instead of hanging.
#
#   dist/run_mpi_tests.sh          # the tests
#   dist/run_mpi_tests.sh -bench   # also all-reduce bandwidth, 1 MB … 553 MB, 2 and 4 ranks
#
# Needs Open MPI (apt-get install -y openmpi-bin libopenmpi-dev). Ranks may outnumber
# cores (--oversubscribe); as root, mpirun needs --allow-run-as-root.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(mktemp -d)/dist.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -tags mpi -o "$bin" ./dist

mpi=(mpirun --oversubscribe --bind-to none)
[ "$(id -u)" = 0 ] && mpi+=(--allow-run-as-root)
tcp=(--mca btl self,tcp --mca btl_tcp_if_include lo)

run() { echo "=== $*"; timeout 600 "$@"; }

run "${mpi[@]}" -np 2 "$bin" -test.count=1
run "${mpi[@]}" -np 4 "$bin" -test.count=1
run "${mpi[@]}" -np 2 "${tcp[@]}" "$bin" -test.count=1

# A dead or stuck rank must end the job with an error, quickly.
for fault in hang exit panic; do
	echo "=== fault: rank 1 ${fault}s"
	start=$SECONDS
	set +e
	out=$(GOVGG_DIST_FAULT=$fault timeout 120 "${mpi[@]}" -np 2 -x GOVGG_DIST_FAULT "$bin" -test.run '^TestMPIFault$' 2>&1)
	rc=$?
	set -e
	took=$((SECONDS - start))
	if [ "$rc" = 0 ] || [ "$rc" = 124 ]; then
		echo "$out"; echo "FAIL: fault $fault: exit status $rc after ${took}s; want a failed job"; exit 1
	fi
	if [ "$fault" = hang ] && ! grep -q "AllReduceSum of 1000 float32 did not complete within 3s" <<<"$out"; then
		echo "$out"; echo "FAIL: fault hang: no timeout message naming the operation"; exit 1
	fi
	if grep -q "instead of ending the job" <<<"$out"; then
		echo "$out"; echo "FAIL: fault $fault: a collective returned"; exit 1
	fi
	echo "ok: job failed with status $rc after ${took}s"
done

if [ "${1:-}" = -bench ]; then
	for n in 2 4; do
		run env GOVGG_DIST_BENCH=1 "${mpi[@]}" -np "$n" -x GOVGG_DIST_BENCH "$bin" -test.run '^TestMPIBandwidth$'
	done
	run env GOVGG_DIST_BENCH=1 "${mpi[@]}" -np 2 "${tcp[@]}" -x GOVGG_DIST_BENCH "$bin" -test.run '^TestMPIBandwidth$'
fi
echo "=== dist MPI tests passed"
