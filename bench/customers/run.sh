#!/usr/bin/env bash
# The customer list at scale (issue 5): generates a team with N customers straight into Koi's database
# (koi-bench-customers-gen), starts `koi serve` on it and measures GET /api/v1/scrm/customers with wrk: the first
# page of 50, a corp-tag filter, a search term, and a deep page.
#   bench/customers/run.sh [N=1000000] [sqlite|postgresql]   (PostgreSQL: run under scripts/with-postgres)
# Release build (make build, make bench). Prints a Markdown table to add to bench/results/customers.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000000}; engine=${2:-sqlite}; secs=${SECS:-10}
source bench/wecom/lib.sh
make -s build >/dev/null
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKOI_BUILD_TESTS=OFF -DKOI_BUILD_BENCH=ON >/dev/null
cmake --build build-bench -j2 --target koi-bench-customers-gen >/dev/null
port=$(pick_port)
data=$(mktemp -d /tmp/koi-bench-customers.XXXXXX); mkdir -p "$data/www"
pid=""
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
if [ "$engine" = postgresql ]; then
  db_url=${KOI_TEST_PG_URL:?run under scripts/with-postgres}
else
  db_url="sqlite:$data/koi.db"
fi
gen_start=$(date +%s.%N)
build-bench/koi-bench-customers-gen --db "$db_url" --customers "$n" >"$data/gen.txt"
gen_s=$(python3 -c "print(round($(date +%s.%N) - $gen_start))")
KOI_SERVER_LISTEN="127.0.0.1:$port" KOI_DATABASE_URL="$db_url" KOI_LOG_LEVEL=warn KOI_SERVER_STATIC_DIR="$data/www" \
  KOI_WECOM_SECRET_KEY_FILE="$data/key" KOI_JOBS_ENABLED=false build/koi serve >"$data/koi.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
jar="$data/jar"
curl -fs -c "$jar" "http://127.0.0.1:$port/api/v1/auth/session" >/dev/null || true
csrf=$(awk '$6=="koi_csrf" {print $7}' "$jar")
curl -fs -b "$jar" -c "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
  -d '{"phone":"13800000000","password":"koi2026bench"}' "http://127.0.0.1:$port/api/v1/auth/login" >/dev/null
session=$(awk '$6=="koi_session" {print $7}' "$jar")

run() {  # label path -> a table row: p50, p99, req/s, total
  local label=$1 path=$2 out total
  total=$(curl -fs -H "Cookie: koi_session=$session" "http://127.0.0.1:$port$path" |
          python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["total"])')
  out=$(wrk -t1 -c4 -d"${secs}s" --timeout 30s --latency -H "Cookie: koi_session=$session" "http://127.0.0.1:$port$path")
  if grep -q "Non-2xx" <<<"$out"; then echo "wrk saw failed requests on $path: $out" >&2; exit 1; fi
  printf '| %s | %s | %s | %s | %s |\n' "$label" "$(awk '$1=="50%" {print $2}' <<<"$out")" \
    "$(awk '$1=="99%" {print $2}' <<<"$out")" "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$total"
}
echo
echo "$engine, $(tail -1 "$data/gen.txt") (generated in ${gen_s} s); wrk -t1 -c4 -d${secs}s, page_size=50:"
echo
echo "| request | p50 | p99 | req/s | total rows |"
echo "|---|---|---|---|---|"
run "first page, newest first" "/api/v1/scrm/customers?page_size=50"
run "corp tag filter (a mid-popular tag)" "/api/v1/scrm/customers?page_size=50&tag=ettag40"
run "search 王小明" "/api/v1/scrm/customers?page_size=50&q=%E7%8E%8B%E5%B0%8F%E6%98%8E"
run "page 200" "/api/v1/scrm/customers?page_size=50&page=200"
run "one row per relationship" "/api/v1/scrm/customers?page_size=50&mode=relationship"
