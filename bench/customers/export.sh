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
source bench/customers/lib.sh
start_generated_koi "$n" "$engine" true

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
