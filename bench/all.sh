#!/bin/sh
# bench/all.sh - what `make bench` runs: every benchmark of the project at
# each scale, each figure beside its baseline measured in the same run, then
# bench/results.json (a list of {name, value, unit, baseline_name,
# baseline_value, ratio, scale[, peak_kib]}) and bench/results.md.
#
#   SCALE        one scale (e.g. 100000) instead of the default 10^4, 10^5
#                and 10^6 transactions / lines
#   BENCH_OUT    where results.json and results.md go (default bench/)
#   BENCH_STEPS  only these benchmarks (of: post camt csv reconcile reports
#                front), their figures added to those of the last run
#                (out/bench-logs/records.jsonl) in place of older ones
#
# The ratio is always the baseline's time divided by ours on the same work
# (higher is better); see bench/lib.sh.  The front benchmark does not
# depend on a scale and runs once, after the largest scale.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${BENCH_OUT:-$root/bench}
scales=${SCALE:-10000 100000 1000000}
logs=$root/out/bench-logs
mkdir -p "$logs"
results=$logs/records.new
: >"$results"
export BENCH_RESULTS="$results"

step() { # NAME SCRIPT [VAR=VALUE...]: runs one benchmark, its log kept
	name=$1
	script=$2
	shift 2
	if [ -n "${BENCH_STEPS:-}" ]; then
		case " $BENCH_STEPS " in *" ${name%%-*} "*) ;; *) return 0 ;; esac
	fi
	[ -x "$root/bench/$script" ] || { echo "bench: $script missing, skipped" >&2; return 0; }
	echo "bench: $name" >&2
	if ! env "$@" "$root/bench/$script" >"$logs/$name.log" 2>&1; then
		echo "bench: $name failed; its log:" >&2
		tail -n 20 "$logs/$name.log" >&2
		failed="$failed $name"
		return 0
	fi
	cat "$logs/$name.log"
}

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
failed=
for s in $scales; do
	step "post-$s" run.sh BENCH_N="$s"
	step "camt-$s" import.sh BENCH_N="$s"
	step "csv-$s" import_csv.sh BENCH_N="$s"
	step "reconcile-$s" reconcile.sh BENCH_RECON_N="$s"
	step "reports-$s" reports.sh BENCH_N="$s"
done
step front front.sh BENCH_FRONT_REQUESTS="${BENCH_FRONT_REQUESTS:-150000}"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# A partial run (BENCH_STEPS) replaces only its own figures.
if [ -n "${BENCH_STEPS:-}" ] && [ -f "$logs/records.jsonl" ]; then
	python3 - "$logs/records.jsonl" "$results" <<'EOF'
import json, sys
old = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
new = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
key = lambda r: (r["name"], r["scale"], r["baseline_name"])
fresh = {key(r) for r in new}
with open(sys.argv[2], "w") as f:
    for r in [r for r in old if key(r) not in fresh] + new:
        f.write(json.dumps(r) + "\n")
EOF
fi
mv "$results" "$logs/records.jsonl"
results=$logs/records.jsonl

python3 - "$results" "$out" "$started" "$load_before" "$load_after" "$(nproc)" "$scales" "$failed" <<'EOF'
import json, sys
src, out, started, lb, la, cores, scales, failed = sys.argv[1:]
rows = [json.loads(l) for l in open(src) if l.strip()]
with open(out + "/results.json", "w") as f:
    json.dump(rows, f, indent=1, sort_keys=True)
    f.write("\n")
def num(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return ("%.3f" % v).rstrip("0").rstrip(".") if v < 100 else "{:,.0f}".format(v)
    return "{:,}".format(v)
md = ["# Benchmark results", "",
      "Written by `make bench` (bench/all.sh) on %s, %s cores; load average %s before, %s after."
      % (started, cores, lb, la),
      "Scales: %s.  Ratio = the baseline's time / ours on the same work (higher is better)." % scales,
      "Each script's log with its targets is under out/bench-logs/.", ""]
if failed.strip():
    md += ["**Failed in this run:** %s (see their logs)." % failed.strip(), ""]
md += [
      "| name | scale | value | unit | baseline | baseline value | ratio | peak MiB |",
      "|---|---|---|---|---|---|---|---|"]
for r in rows:
    peak = r.get("peak_kib")
    md.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
        r["name"], num(r["scale"]), num(r["value"]), r["unit"], r["baseline_name"] or "-",
        num(r["baseline_value"]), "-" if r["ratio"] is None else "%.2f" % r["ratio"],
        "-" if peak is None else "%.0f" % (peak / 1024)))
open(out + "/results.md", "w").write("\n".join(md) + "\n")
EOF
echo "bench: wrote $out/results.json and $out/results.md" >&2
