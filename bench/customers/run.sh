#!/usr/bin/env bash
# The customer list at scale (issue 5): generates a team with N customers straight into Koi's database
# (koi-bench-customers-gen), starts `koi serve` on it and measures GET /api/v1/scrm/customers with wrk: the first
# page of 50, a corp-tag filter, a search term, and a deep page.
#   bench/customers/run.sh [N=1000000] [sqlite|postgresql]   (PostgreSQL: run under scripts/with-postgres)
# Release build (make build, make bench). Prints a Markdown table to add to bench/results/customers.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000000}; engine=${2:-sqlite}; secs=${SECS:-10}
source bench/customers/lib.sh
start_generated_koi "$n" "$engine" false
# The list counts from the segment index once it is built (at start, in the background): wait for it.
index_start=$(date +%s.%N)
for _ in $(seq 1 600); do
  built=$(curl -fs "$base/metrics" | awk '$1=="koi_segment_index_customers" {print int($2)}')
  [ "${built:-0}" -ge "$n" ] && break; sleep 0.5
done
index_s=$(python3 -c "print(round($(date +%s.%N) - $index_start))")

run() {  # label path -> a table row: p50 and p99 with one connection, then with four, req/s with four, total
  local label=$1 path=$2 one four total
  total=$(curl -fs -H "Cookie: koi_session=$session" "$base$path" |
          python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["total"])')
  one=$(wrk -t1 -c1 -d"${secs}s" --timeout 30s --latency -H "Cookie: koi_session=$session" "$base$path")
  four=$(wrk -t1 -c4 -d"${secs}s" --timeout 30s --latency -H "Cookie: koi_session=$session" "$base$path")
  if grep -q "Non-2xx" <<<"$one$four"; then echo "wrk saw failed requests on $path: $one $four" >&2; exit 1; fi
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$(awk '$1=="50%" {print $2}' <<<"$one")" \
    "$(awk '$1=="99%" {print $2}' <<<"$one")" "$(awk '$1=="50%" {print $2}' <<<"$four")" \
    "$(awk '$1=="99%" {print $2}' <<<"$four")" "$(awk '/Requests\/sec/ {print $2}' <<<"$four")" "$total"
}
echo
echo "$engine, $(tail -1 "$data/gen.txt") (generated in ${gen_s} s; koi ready ${ready_s} s after start, its segment index ${index_s} s later); wrk -t1 -d${secs}s with 1 and with 4 connections, page_size=50:"
echo
echo "| request | p50 (1 conn) | p99 (1 conn) | p50 (4 conns) | p99 (4 conns) | req/s (4 conns) | total rows |"
echo "|---|---|---|---|---|---|---|"
run "first page, newest first" "/api/v1/scrm/customers?page_size=50"
run "corp tag filter (a mid-popular tag)" "/api/v1/scrm/customers?page_size=50&tag=ettag40"
run "search 王小明" "/api/v1/scrm/customers?page_size=50&q=%E7%8E%8B%E5%B0%8F%E6%98%8E"
run "search by pinyin initials wxm" "/api/v1/scrm/customers?page_size=50&q=wxm"
run "page 200" "/api/v1/scrm/customers?page_size=50&page=200"
run "one row per relationship" "/api/v1/scrm/customers?page_size=50&mode=relationship"
