#!/usr/bin/env bash
# Full-sync speed: koi-wecom-sandbox seeds a corp of N customers; `koi seed-demo` links the demo team to it and
# `koi serve` runs the full sync as its durable job over real HTTP on loopback. Reports customers/second from
# the job's creation to its success, with SQLite. Usage: bench/wecom/run.sh [customers] (default 100000).
# Writes bench/results/wecom.md. Release build (make build).
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-100000}
make --no-print-directory build >/dev/null
. bench/wecom/lib.sh
start_sandbox_and_koi "" --customers "$n" --employees 500 --groups 200 --seed 7
# Log in as the demo admin and poll the sync through the API (what the console shows).
jar="$data/jar"
curl -fs -c "$jar" "http://127.0.0.1:$port/api/v1/auth/session" >/dev/null || true
csrf=$(awk '$6=="koi_csrf" {print $7}' "$jar")
curl -fs -b "$jar" -c "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
  -d '{"phone":"13800000000","password":"koi2026demo"}' "http://127.0.0.1:$port/api/v1/auth/login" >/dev/null
state=""
for _ in $(seq 1 7200); do
  body=$(curl -fs -b "$jar" "http://127.0.0.1:$port/api/v1/scrm/wecom" || true)
  state=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1])["data"]; print(d["sync"]["state"])' "$body" 2>/dev/null || true)
  [ "$state" = succeeded ] || [ "$state" = failed ] && break
  sleep 0.5
done
read -r secs follows customers <<<"$(python3 -c 'import json,sys; d=json.loads(sys.argv[1])["data"]; s=d["sync"]
print((s["finished_at"] - s["created_at"]) / 1000.0, d["counts"]["follows"], d["counts"]["customers"])' "$body")"
rate=$(python3 -c "print(round($customers / $secs))")
rss=$(awk '/VmHWM/ {print $2" "$3}' /proc/$koi_pid/status)
{
  echo "# WeCom full sync"
  echo
  echo "Command: \`bench/wecom/run.sh $n\` (Release build; koi-wecom-sandbox and koi serve on loopback over HTTP, SQLite;"
  echo "both processes and the client share the machine's 2 cores). Measured $(date -u +%Y-%m-%dT%H:%MZ), koi $(build/koi version | cut -d' ' -f2)."
  echo
  echo "| customers | follow relationships | sync state | seconds | customers/s | koi peak RSS |"
  echo "| --- | --- | --- | --- | --- | --- |"
  echo "| $customers | $follows | $state | $secs | $rate | $rss |"
  echo
  echo "Sandbox seeding of the world took ${seed_s} s ($(cat "$data/seed.txt" | sed 's/.*): //'))."
} | tee bench/results/wecom.md
