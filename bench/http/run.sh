#!/usr/bin/env bash
# HTTP throughput and latency of `koi serve` (Release build, SQLite), measured with wrk on loopback:
#   GET /healthz                 (served on the I/O threads, no database)
#   GET /api/v1/system/status    (worker pool; resolves the session, then reads the schema version and job counts)
# Usage: bench/http/run.sh [seconds]   — writes bench/results/http.md. Run on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
make --no-print-directory build >/dev/null
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=""; for _ in $(seq 1 50); do p=$((20000 + RANDOM % 12000)); if port_free "$p"; then port=$p; break; fi; done
data=$(mktemp -d /tmp/koi-bench.XXXXXX)
export KOI_SERVER_LISTEN="127.0.0.1:$port" KOI_DATABASE_URL="sqlite:$data/koi.db" KOI_LOG_LEVEL=warn
build/koi seed-demo >/dev/null
build/koi serve >"$data/koi.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
# The system status needs a session: log in as the demo admin once and reuse the cookie.
jar="$data/jar"
curl -fs -c "$jar" "http://127.0.0.1:$port/api/v1/auth/session" >/dev/null || true
csrf=$(awk '$6=="koi_csrf" {print $7}' "$jar")
curl -fs -b "$jar" -c "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
  -d '{"phone":"13800000000","password":"koi2026demo"}' "http://127.0.0.1:$port/api/v1/auth/login" >/dev/null
session=$(awk '$6=="koi_session" {print $7}' "$jar")

run() {  # path -> "req/s p50 p99" (median of two runs by req/s)
  local path=$1 out rps p50 p99 results=()
  for i in 1 2; do
    out=$(wrk -t2 -c64 -d"${secs}s" --latency -H "Cookie: koi_session=$session" "http://127.0.0.1:$port$path")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    errs=$(grep -E "Non-2xx|Socket errors" <<<"$out" | tr '\n' ' ' || true)
    results+=("$rps $p50 $p99 ${errs:-none}")
  done
  printf '%s\n' "${results[@]}"
}
health=$(run /healthz)
status=$(run /api/v1/system/status)
rss=$(awk '/VmHWM/ {print $2" "$3}' /proc/$pid/status)
{
  echo "# HTTP benchmark"
  echo
  echo "Command: \`bench/http/run.sh $secs\` (Release build, SQLite in a temp folder, server and wrk share the"
  echo "machine's 2 cores). Each line is one \`wrk -t2 -c64 -d${secs}s --latency\` run on loopback."
  echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(uname -r), koi $(build/koi version | cut -d' ' -f2)."
  echo
  echo "| endpoint | run | requests/s | p50 | p99 | errors |"
  echo "| --- | --- | --- | --- | --- | --- |"
  i=1; while read -r a b c d; do echo "| GET /healthz | $i | $a | $b | $c | $d |"; i=$((i+1)); done <<<"$health"
  i=1; while read -r a b c d; do echo "| GET /api/v1/system/status (session + database) | $i | $a | $b | $c | $d |"; i=$((i+1)); done <<<"$status"
  echo
  echo "Peak RSS of koi after both endpoints: $rss."
} > bench/results/http.md
cat bench/results/http.md
