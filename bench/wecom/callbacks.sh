#!/usr/bin/env bash
# Callback ingestion: how many WeCom callbacks per second Koi verifies, decrypts and stores durably (acknowledged
# only after the commit), and the acknowledgement latency WeCom sees. koi-wecom-sandbox signs N distinct callbacks
# for the demo corp; wrk POSTs each once (bench/wecom/callbacks.lua) to /api/v1/wecom/callback/<corp> on loopback.
# Koi's wecom.apply_events job applies them meanwhile, as it would in production. Everything shares the 2 cores.
# Usage: bench/wecom/callbacks.sh [count] [sqlite|postgresql]   (default 200000 sqlite; postgresql runs under
# scripts/with-postgres). Appends a row to bench/results/wecom-callbacks.md. Release build (make build).
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-200000}
engine=${2:-sqlite}
if [ "$engine" = postgresql ] && [ -z "${KOI_TEST_PG_URL:-}" ]; then exec scripts/with-postgres "$0" "$n" postgresql; fi
make --no-print-directory build >/dev/null
. bench/wecom/lib.sh
corp=wwkoidemo0000001
db_url=""
[ "$engine" = postgresql ] && db_url=$KOI_TEST_PG_URL
start_sandbox_and_koi "$db_url" --customers 50 --employees 5 --groups 2
sleep 2  # the demo team's first full sync (50 customers) finishes
build/koi-wecom-sandbox sign-callbacks --corp "$corp" --path "/api/v1/wecom/callback/$corp" --count "$n" \
  --out "$data/callbacks.txt"
threads=2
# wrk runs for its whole -d even after every thread stopped, so its requests/s is diluted: the rate below comes
# from the stored rows' receive times instead (first to last commit).
KOI_CALLBACKS="$data/callbacks.txt" KOI_WRK_THREADS=$threads \
  wrk -t$threads -c64 -d$((10 + n / 2000))s --latency -s bench/wecom/callbacks.lua "http://127.0.0.1:$port" \
  >"$data/wrk.txt"
cat "$data/wrk.txt" >&2
p50=$(awk '$1=="50%" {print $2}' "$data/wrk.txt")
p99=$(awk '$1=="99%" {print $2}' "$data/wrk.txt")
non2xx=$(awk '/Non-2xx/ {print $5}' "$data/wrk.txt"); non2xx=${non2xx:-0}
# Stored rows, and how long the apply job takes to drain what arrived.
# Waiting to be applied: queued (migration 29 on); before it (an A/B against an older build), state 'pending'.
count_sql="SELECT COUNT(*), (SELECT COUNT(*) FROM wecom_event_queue), MAX(received_at) - MIN(received_at) FROM wecom_events"
old_count_sql="SELECT COUNT(*), COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0), MAX(received_at) - MIN(received_at) FROM wecom_events"
query_with() {
  if [ "$engine" = postgresql ]; then psql -qtA -F' ' "$KOI_TEST_PG_URL" -c "$1" 2>/dev/null
  else python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(*c.execute(sys.argv[2]).fetchone())" "$data/koi.db" "$1" 2>/dev/null; fi
}
query() { query_with "$count_sql" || query_with "$old_count_sql"; }
drain_start=$(date +%s.%N)
for _ in $(seq 1 1200); do read -r stored pending span_ms <<<"$(query)"; [ "$pending" = 0 ] && break; sleep 0.5; done
rps=$(python3 -c "print(round($stored * 1000 / max($span_ms, 1)))")
drain_s=$(python3 -c "print(round($(date +%s.%N) - $drain_start, 1))")
rss=$(awk '/VmHWM/ {print $2" "$3}' /proc/$koi_pid/status)
out=bench/results/wecom-callbacks.md
if [ ! -f "$out" ]; then
  {
    echo "# WeCom callback ingestion"
    echo
    echo "Command: \`bench/wecom/callbacks.sh [count] [sqlite|postgresql]\` (Release build). N distinct signed, encrypted"
    echo "callbacks (change_contact/delete_user) POSTed once each by \`wrk -t2 -c64\` to /api/v1/wecom/callback/<corp> on"
    echo "loopback; Koi answers 200 only after the event is committed. wrk, Koi and its apply job share the 2 cores."
    echo "callbacks/s is stored rows over the time from the first to the last commit. \"Apply lag\" is how long the"
    echo "wecom.apply_events job still needed after wrk finished."
    echo
    echo "| measured (UTC) | engine | HTTP workers | callbacks | stored | callbacks/s | ack p50 | ack p99 | non-200 | apply lag | koi peak RSS |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  } >"$out"
fi
echo "| $(date -u +%Y-%m-%dT%H:%MZ) | $engine | ${KOI_SERVER_WORKER_THREADS:-16} | $n | $stored | $rps | $p50 | $p99 | $non2xx | ${drain_s} s | $rss |" | tee -a "$out"
