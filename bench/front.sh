#!/bin/sh
# bench/front.sh - the HTTP front under wrk: signed purchases at 64
# connections against loopback, then the books.
#
# wrk's Lua has no HMAC, so every request is signed beforehand (python3,
# standard library): BENCH_FRONT_REQUESTS distinct purchases (default
# 300,000), each with its own order id and Idempotency-Key, split between
# the wrk threads; a thread that runs out sends GET /healthz, which is not
# counted as a purchase.  Prints purchases/s (201 answers / duration), wrk's
# p99 latency over all requests, the writer's mean group-commit batch (from
# /metrics), then `clearbook verify` and the wallet-sum check: the wallets
# fell by exactly 0.01 per acknowledged purchase.
#
# Baseline, same run: the same number of purchase transactions (the same
# postings, ids, memos and metadata the front writes) posted by `clearbook
# post` from JSON Lines into a copy of the same ledger: one process, one
# database transaction, no HTTP, signatures or per-batch fsync.  The ratio
# front / post says what serving them one by one over HTTP costs.  Figures
# go to $BENCH_RESULTS through bench/lib.sh: front_purchases (purchases/s
# at 64 connections, against the post baseline), front_p99_ms and
# front_batch_mean (no baseline).
#
#   BENCH_FRONT_SECONDS   wrk duration (default 10)
#   BENCH_FRONT_CONNS     connections (default 64)
#   BENCH_DIR             scratch folder (default out/bench-front)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
dir=${BENCH_DIR:-$root/out/bench-front}
secs=${BENCH_FRONT_SECONDS:-10}
conns=${BENCH_FRONT_CONNS:-64}
reqs=${BENCH_FRONT_REQUESTS:-300000}
threads=2
customers=1000
cb=$root/bin/clearbook
export CLEARBOOK_MASTER_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
export CLEARBOOK_DB="$dir/front.db"
unset CLEARBOOK_NOW

command -v wrk >/dev/null || { echo "bench/front.sh: wrk is not installed" >&2; exit 69; }
mkdir -p "$dir"
rm -f "$dir"/front.db* "$dir"/base.db* "$dir"/reqs.* "$dir"/wrk.out "$dir"/serve.log \
	"$dir"/baseline.*

# --- the ledger: 1,000 wallets of 10,000.00 CNY -----------------------------
"$cb" init >/dev/null
"$cb" account add assets:bank:cny --type asset --asset CNY
"$cb" account add income:fees:processing --type income --asset CNY
"$cb" account template add 'liabilities:wallets:*' --type liability --asset CNY --no-overdraft
"$cb" account template add 'liabilities:merchants:*:payable' --type liability --asset CNY
i=0
while [ $i -lt $customers ]; do
	printf '{"id":"top-%d","date":"2026-11-24","postings":[{"account":"assets:bank:cny","amount":"10000.00"},{"account":"liabilities:wallets:b%d","amount":"-10000.00"}]}\n' $i $i
	i=$((i + 1))
done >"$dir/topups.jsonl"
"$cb" post "$dir/topups.jsonl" >/dev/null
"$cb" apikey add m1 >"$dir/key.txt"
# the baseline's ledger: the same state, before any purchase
"$cb" backup "$dir/base.db" >/dev/null
key_id=$(sed -n 's/^key_id=//p' "$dir/key.txt")
secret=$(sed -n 's/^secret=//p' "$dir/key.txt")
cat >"$dir/front.ini" <<EOF2
[server]
queue_max = 16384
batch_max = 4096
connections_max = 1024
[rate_limit]
key_per_s = 10000000
key_burst = 10000000
addr_per_s = 10000000
addr_burst = 10000000
[merchant m1]
fee_bps = 150
EOF2

# --- signed requests, made before the clock starts ---------------------------
python3 - "$dir" "$secret" "$reqs" "$threads" "$customers" <<'EOF2'
import hashlib, hmac, sys, time
d, secret, n, threads, customers = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
ts = str(int(time.time()) + 60)  # valid from 4 minutes before to 6 after
files = [open("%s/reqs.%d" % (d, t), "w") for t in range(threads)]
for i in range(n):
    body = ('{"order_id":"b-%d","customer":"b%d","merchant":"m1","amount":"0.01","asset":"CNY"}'
            % (i, i % customers))
    msg = "POST\n/v1/purchases\n%s\n%s" % (ts, hashlib.sha256(body.encode()).hexdigest())
    sig = hmac.new(secret, msg.encode(), hashlib.sha256).hexdigest()
    files[i % threads].write("%s\t%s\t%s\tidem-b-%d\n" % (body, ts, sig, i))
for f in files:
    f.close()
EOF2

cat >"$dir/front.lua" <<'EOF2'
-- wrk script: replays pre-signed purchases (bench/front.sh)
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  dir, key_id = args[1], args[2]
  reqs, i, created, refused = {}, 0, 0, 0
  for line in io.lines(dir .. "/reqs." .. id) do reqs[#reqs + 1] = line end
end
function request()
  i = i + 1
  if i > #reqs then return wrk.format("GET", "/healthz") end
  local body, ts, sig, idem = reqs[i]:match("^(.-)\t(.-)\t(.-)\t(.-)$")
  return wrk.format("POST", "/v1/purchases", {
    ["Content-Type"] = "application/json", ["X-Key-Id"] = key_id,
    ["X-Timestamp"] = ts, ["X-Signature"] = sig, ["Idempotency-Key"] = idem }, body)
end
function response(status, headers, body)
  if status == 201 then created = created + 1
  elseif status ~= 200 then refused = refused + 1 end
end
function done(summary, latency, requests)
  local c, r = 0, 0
  for _, t in ipairs(threads) do c = c + t:get("created"); r = r + t:get("refused") end
  io.write(string.format("created=%d\nrefused=%d\nduration_us=%d\np99_us=%d\np50_us=%d\n",
    c, r, summary.duration, latency:percentile(99), latency:percentile(50)))
end
EOF2

# --- the run --------------------------------------------------------------
# The log exists before the server opens it, so the first look for its
# port cannot fail.
: >"$dir/serve.log"
"$cb" serve --listen 127.0.0.1:0 --config "$dir/front.ini" 2>"$dir/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
port=
i=0
while [ -z "$port" ] && [ $i -lt 600 ]; do
	port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/serve.log")
	[ -n "$port" ] || sleep 0.1
	i=$((i + 1))
done
[ -n "$port" ] || { echo "bench/front.sh: serve did not start" >&2; cat "$dir/serve.log" >&2; exit 70; }

[ -z "${BENCH_FRONT_PERF:-}" ] || (perf record -F 999 -g -p $pid -o "$dir/perf.data" -- sleep 4 >/dev/null 2>&1 &)
[ -z "${BENCH_FRONT_STRACE:-}" ] || (timeout 4 strace -f -c -p $pid -o "$dir/strace.txt" -e trace=fsync,fdatasync,pwrite64,pread64,write,futex >/dev/null 2>&1 &)
wrk -t $threads -c "$conns" -d "${secs}s" --latency -s "$dir/front.lua" \
	"http://127.0.0.1:$port" -- "$dir" "$key_id" >"$dir/wrk.out"
metrics=$(python3 -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$port/metrics').read().decode())")
# the server's CPU seconds (user + system) over its life, wrk's run nearly all
cpu_front=$(awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$pid/stat")
kill -TERM $pid
rc=0
wait $pid || rc=$?
trap - EXIT
[ $rc -eq 0 ] || { echo "bench/front.sh: serve exited $rc" >&2; exit 70; }

val() { sed -n "s/^$1=//p" "$dir/wrk.out"; }
created=$(val created)
refused=$(val refused)
dur=$(val duration_us)
p99=$(val p99_us)
p50=$(val p50_us)
bsum=$(echo "$metrics" | sed -n 's/^clearbook_front_commit_batch_size_sum //p')
bcount=$(echo "$metrics" | sed -n 's/^clearbook_front_commit_batch_size_count //p')
w_req=$(echo "$metrics" | sed -n 's/^clearbook_front_writer_seconds_total{phase="requests"} //p')
w_commit=$(echo "$metrics" | sed -n 's/^clearbook_front_writer_seconds_total{phase="commit"} //p')
echo "front: $conns connections, $secs s, load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
awk -v c="$created" -v d="$dur" -v p99="$p99" -v p50="$p50" -v bs="$bsum" -v bc="$bcount" -v r="$refused" 'BEGIN {
	printf "  purchases/s      %10.0f   (%d acknowledged, %d other answers)\n", c / (d / 1e6), c, r
	printf "  latency p50      %10.2f ms\n", p50 / 1000
	printf "  latency p99      %10.2f ms   (target < 20 ms)\n", p99 / 1000
	printf "  mean batch       %10.1f requests per commit (%d commits)\n", (bc > 0 ? bs / bc : 0), bc
}'
echo "  writer time      ${w_req} s handling requests, ${w_commit} s committing"
echo "  server CPU       ${cpu_front} s (user + system, whole run)"

# --- the books ------------------------------------------------------------------
"$cb" verify
# Purchases committed: those acknowledged, and at most one per connection
# that wrk stopped waiting for when its time was up.
committed=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM front_purchases').fetchone()[0])" "$dir/front.db")
spent=$("$cb" balance liabilities:wallets --format csv |
	awk -F, '$1 == "liabilities:wallets" { gsub(/-/, "", $3); print $3 }')
want=$(awk -v c="$committed" -v n=$customers 'BEGIN {
	m = n * 1000000 - c   # minor units, integers all the way
	printf "%d.%02d", int(m / 100), m % 100 }')
if [ "$spent" = "$want" ] && [ "$committed" -ge "$created" ] &&
	[ "$committed" -le $((created + conns)) ]; then
	echo "wallets: $spent CNY = 10,000,000.00 - $committed x 0.01 ($created acknowledged, $((committed - created)) in flight when wrk stopped): ok"
else
	echo "wallets: $spent CNY; $committed purchases committed imply $want; $created acknowledged" >&2
	exit 1
fi

# --- the baseline: the same purchases through clearbook post ---------------------
# Lines like the front's: the same accounts, memo, metadata and id length.
awk -v n="$created" -v c=$customers 'BEGIN {
	for (i = 0; i < n; i++)
		printf "{\"id\":\"pu_%020d\",\"date\":\"2026-11-24\",\"memo\":\"purchase m1 order b-%d\",\"meta\":{\"front\":\"purchase\",\"customer\":\"b%d\"},\"postings\":[{\"account\":\"liabilities:wallets:b%d\",\"amount\":\"0.01\"},{\"account\":\"liabilities:merchants:m1:payable\",\"amount\":\"-0.01\"}]}\n", i, i, i % c, i % c
}' >"$dir/baseline.jsonl"
# three runs on fresh copies of the ledger; the median run's figures
tv() { sed -n "s/^[[:space:]]*$1: //p" "$dir/baseline.time"; }
walls= cpus= peaks=
for k in 1 2 3; do
	cp "$dir/base.db" "$dir/baseline.$k.db"
	/usr/bin/time -v "$cb" --db "$dir/baseline.$k.db" post "$dir/baseline.jsonl" >/dev/null 2>"$dir/baseline.time"
	walls="$walls $(tv 'Elapsed (wall clock) time (h:mm:ss or m:ss)' | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.3f", s }')"
	cpus="$cpus $(awk -v u="$(tv 'User time (seconds)')" -v s="$(tv 'System time (seconds)')" 'BEGIN { printf "%.2f", u + s }')"
	peaks="$peaks $(tv 'Maximum resident set size (kbytes)')"
	rm -f "$dir/baseline.$k.db"*
done
# shellcheck disable=SC2086
b_wall=$(bench_median $walls)
# shellcheck disable=SC2086
b_cpu=$(bench_median $cpus)
# shellcheck disable=SC2086
b_peak=$(bench_median $peaks)
rate=$(awk -v c="$created" -v d="$dur" 'BEGIN { printf "%.0f", c / (d / 1e6) }')
b_rate=$(awk -v c="$created" -v s="$b_wall" 'BEGIN { printf "%.0f", (s > 0 ? c / s : 0) }')
ratio=$(bench_ratio "$rate" "$b_rate")
echo "baseline: clearbook post of the same $created purchases (median of 3): ${b_wall} s wall, ${b_cpu} s CPU, $b_rate purchases/s, peak $b_peak KiB"
echo "  front / post     ${ratio}x   (CPU per purchase: front $(awk -v s="$cpu_front" -v c="$created" 'BEGIN { printf "%.1f", s * 1e6 / c }') us, post $(awk -v s="$b_cpu" -v c="$created" 'BEGIN { printf "%.1f", s * 1e6 / c }') us)"
p99_ms=$(awk -v p="$p99" 'BEGIN { printf "%.2f", p / 1000 }')
bmean=$(awk -v s="$bsum" -v c="$bcount" 'BEGIN { printf "%.1f", (c > 0 ? s / c : 0) }')
bench_record front_purchases "$rate" "purchases/s" "clearbook post, same purchases" "$b_rate" "$ratio" "$created"
bench_record front_p99_ms "$p99_ms" ms - - - "$created"
bench_record front_batch_mean "$bmean" "requests/commit" - - - "$created"
