#!/usr/bin/env bash
# Side-by-side VGG-16 on this machine: govgg, PyTorch 1.13 (Debian python3-torch) and ONNX
# Runtime (npm onnxruntime-node), interleaved round by round so that the shared machine's
# load hits every engine alike; prints per-engine medians over the rounds and the ratios.
#
#   scripts/compare/run.sh                  # inference, batch 1 and 8, 1 and 2 threads, 3 rounds
#   MODE=train scripts/compare/run.sh       # training steps (PyTorch vs govgg)
#   ROUNDS=5 THREADS="1 2" ITERS=7 scripts/compare/run.sh
#
# Needs: Go, /usr/bin/python3 with python3-torch + python3-torchvision (+ python3-onnx for the
# export), node + npm (onnxruntime-node@1.30.0 is installed into $SCRATCH; its install script,
# which would fetch GPU binaries, is skipped). Run by hand, not in CI.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/scripts/compare"
SCRATCH=${SCRATCH:-/tmp/govgg-compare}
MODE=${MODE:-forward}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-"1 2"}
ITERS=${ITERS:-5}
mkdir -p "$SCRATCH"
OUT="$SCRATCH/results-$MODE.txt"
: > "$OUT"

go build -o "$SCRATCH/vgg" "$ROOT/cmd/vgg"
if [ "$MODE" = forward ]; then
	if [ ! -d "$SCRATCH/node_modules/onnxruntime-node" ]; then
		(cd "$SCRATCH" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund onnxruntime-node@1.30.0 >/dev/null)
	fi
	if [ ! -f "$SCRATCH/vgg16.onnx" ]; then
		/usr/bin/python3 - "$SCRATCH/vgg16.onnx" <<'PY'
import sys, torch, torchvision
m = torchvision.models.vgg16(weights=None).eval()
torch.onnx.export(m, torch.randn(1, 3, 224, 224), sys.argv[1], opset_version=13, input_names=["input"],
                  output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
PY
	fi
fi

# govgg's bench table → RESULT lines.
govgg() {
	local t=$1
	if [ "$MODE" = forward ]; then
		"$SCRATCH/vgg" bench -models vgg16 -batch 1,8 -threads "$t" -iters "$ITERS" |
			awk -v t="$t" '$1=="vgg16" {printf "RESULT engine=govgg mode=forward model=vgg16 batch=%s threads=%s ms=%s\n", $4, t, $6}'
	else
		"$SCRATCH/vgg" bench -train -models vgg16 -batch 8 -threads "$t" -iters "$ITERS" |
			awk -v t="$t" '$1=="vgg16" {printf "RESULT engine=govgg mode=train model=vgg16 batch=%s threads=%s ms=%s\n", $4, t, $6}'
		"$SCRATCH/vgg" bench -train -models vgg16 -head linear -num_classes 10 -size 32 -batch 64 -threads "$t" -iters "$ITERS" |
			awk -v t="$t" '$1=="vgg16" {printf "RESULT engine=govgg mode=train model=vgg16_cifar batch=%s threads=%s ms=%s\n", $4, t, $6}'
	fi
}

for r in $(seq "$ROUNDS"); do
	for t in $THREADS; do
		echo "# round $r, $t thread(s)" >&2
		govgg "$t" | tee -a "$OUT"
		OMP_NUM_THREADS=$t MKL_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t \
			/usr/bin/python3 "$HERE/torch_vgg.py" "$MODE" --threads "$t" --iters "$ITERS" | tee -a "$OUT"
		if [ "$MODE" = forward ]; then
			OMP_NUM_THREADS=$t NODE_PATH="$SCRATCH/node_modules" node "$HERE/ort_vgg.js" "$SCRATCH/vgg16.onnx" "$t" "$ITERS" 1,8 | tee -a "$OUT"
		fi
	done
done

python3 - "$OUT" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    if line.startswith("RESULT "):
        kv = dict(f.split("=") for f in line.split()[1:])
        rows[(kv["mode"], kv["model"], int(kv["batch"]), int(kv["threads"]), kv["engine"])].append(float(kv["ms"]))
cases = sorted({k[:4] for k in rows})
engines = ["govgg", "pytorch", "onnxruntime"]
print(f"\n{'mode':8} {'model':12} {'batch':>5} {'thr':>3} " + " ".join(f"{e+' ms':>15}" for e in engines) + "   speed-up of govgg")
for c in cases:
    med = {e: statistics.median(rows[c + (e,)]) for e in engines if rows.get(c + (e,))}
    cells = " ".join(f"{med[e]:15.1f}" if e in med else f"{'-':>15}" for e in engines)
    ratios = ", ".join(f"×{med[e] / med['govgg']:.2f} vs {e}" for e in engines[1:] if e in med and "govgg" in med)
    print(f"{c[0]:8} {c[1]:12} {c[2]:5d} {c[3]:3d} {cells}   {ratios}")
print(f"(medians of {max(len(v) for v in rows.values())} interleaved rounds; img/s = batch·1000/ms)")
PY
