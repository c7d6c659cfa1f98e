#!/usr/bin/env bash
# Customer exports at scale (issue 5): generates a team with N customers straight into Koi's database
# (koi-bench-customers-gen), starts `koi serve` with its job runner, exports every customer as CSV and as XLSX
# through the API (POST /api/v1/scrm/customer-exports, polled until done), downloads each file and checks it: the
# CSV's line count, and the XLSX opened as a zip whose worksheet is parsed to the end (python3's zipfile and
# ElementTree). Reports the job's time, the download's time and the file's size.
#   bench/customers/export.sh [N=1000000] [sqlite|postgresql]   (PostgreSQL: run under scripts/with-postgres)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000000}; engine=${2:-sqlite}
source bench/wecom/lib.sh
make -s build >/dev/null
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKOI_BUILD_TESTS=OFF -DKOI_BUILD_BENCH=ON >/dev/null
cmake --build build-bench -j2 --target koi-bench-customers-gen >/dev/null
port=$(pick_port)
data=$(mktemp -d /tmp/koi-bench-export.XXXXXX); mkdir -p "$data/www"
pid=""
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
if [ "$engine" = postgresql ]; then
  db_url=${KOI_TEST_PG_URL:?run under scripts/with-postgres}
else
  db_url="sqlite:$data/koi.db"
fi
build-bench/koi-bench-customers-gen --db "$db_url" --customers "$n" >"$data/gen.txt"
KOI_SERVER_LISTEN="127.0.0.1:$port" KOI_DATABASE_URL="$db_url" KOI_LOG_LEVEL=warn KOI_SERVER_STATIC_DIR="$data/www" \
  KOI_WECOM_SECRET_KEY_FILE="$data/key" build/koi serve >"$data/koi.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
jar="$data/jar"
base="http://127.0.0.1:$port"
curl -fs -c "$jar" "$base/api/v1/auth/session" >/dev/null || true
csrf=$(awk '$6=="koi_csrf" {print $7}' "$jar")
curl -fs -b "$jar" -c "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
  -d '{"phone":"13800000000","password":"koi2026bench"}' "$base/api/v1/auth/login" >/dev/null
csrf=$(awk '$6=="koi_csrf" {print $7}' "$jar")

export_one() {  # format -> a table row
  local format=$1 id start state job_s dl_start dl_s size check
  start=$(date +%s.%N)
  id=$(curl -fs -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
         -d "{\"format\":\"$format\",\"lang\":\"zh-CN\"}" "$base/api/v1/scrm/customer-exports" |
       python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')
  while :; do
    state=$(curl -fs -b "$jar" "$base/api/v1/scrm/customer-exports/$id" |
            python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(d["state"])')
    case $state in succeeded) break ;; failed|cancelled) echo "export $id $state" >&2; exit 1 ;; esac
    sleep 0.5
  done
  job_s=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")
  dl_start=$(date +%s.%N)
  curl -fs -b "$jar" -o "$data/file.$format" "$base/api/v1/scrm/customer-exports/$id/file"
  dl_s=$(python3 -c "print(round($(date +%s.%N) - $dl_start, 1))")
  size=$(stat -c %s "$data/file.$format")
  check=$(python3 - "$data/file.$format" "$format" <<'PY'
import sys, zipfile, xml.etree.ElementTree as ET
path, fmt = sys.argv[1], sys.argv[2]
if fmt == "csv":
    with open(path, "rb") as f:
        rows = f.read().count(b"\r\n") - 1
else:
    z = zipfile.ZipFile(path)
    assert z.testzip() is None
    rows = -1
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}row"
    for _, el in ET.iterparse(z.open("xl/worksheets/sheet1.xml")):
        if el.tag == ns:
            rows += 1
            el.clear()
print(rows)
PY
)
  printf '| %s | %s s | %s s | %s MB | %s |\n' "$format" "$job_s" "$dl_s" "$(python3 -c "print(round($size/1e6))")" "$check"
}
echo
echo "$engine, $(tail -1 "$data/gen.txt"); every customer, one row each:"
echo
echo "| format | job (asked → done) | download | file | rows read back |"
echo "|---|---|---|---|---|"
export_one csv
export_one xlsx
