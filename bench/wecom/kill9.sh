#!/usr/bin/env bash
# Kill -9 in the middle of a 100,000-customer full sync (tests/cli/wecom_kill9_test.sh with the Release build and
# no added API latency): the restarted node resumes the same job and ends with exactly the sandbox's rows.
# Usage: bench/wecom/kill9.sh [customers]. Appends the outcome to bench/results/wecom-kill9.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-100000}
make --no-print-directory build >/dev/null
log=$(mktemp)
SANDBOX_LATENCY_MS=0 tests/cli/wecom_kill9_test.sh build "$n" | tee "$log"
out=bench/results/wecom-kill9.md
if [ ! -f "$out" ]; then
  {
    echo "# Kill -9 during a full sync"
    echo
    echo "Command: \`bench/wecom/kill9.sh [customers]\` (Release build, SQLite, sandbox and Koi on loopback over HTTP)."
    echo "Koi is killed with SIGKILL once a third of the relationships are stored, then started again; the test checks"
    echo "the same job resumes and finishes, Koi's rows equal the sandbox's (relationships, their tags, customers, group"
    echo "members; no duplicates), and batch/get_by_user calls exceed an uninterrupted sync's pages by at most the page"
    echo "in flight. Seconds are from the first start to success, including the 3 s lease expiry after the kill."
    echo
    echo "| measured (UTC) | customers | relationships | killed at (rows, checkpoint phase) | seconds | batch calls / pages | outcome |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
  } >"$out"
fi
python3 - "$log" "$out" <<'PY'
import re, sys, time
text = open(sys.argv[1]).read()
m = re.search(r'RESULT customers=(\d+) relationships=(\d+) seconds=(\d+) killed_at="(\d+) (\{.*?\})" calls=(\d+) pages=(\d+)', text)
ok = "not ok" not in text and m is not None
phase = re.search(r'"phase":"(\w+)"', m.group(5)).group(1) if m else "?"
row = f"| {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())} | {m.group(1)} | {m.group(2)} | {m.group(4)} ({phase}) | {m.group(3)} | {m.group(6)} / {m.group(7)} | {'all checks passed' if ok else 'FAILED'} |"
open(sys.argv[2], "a").write(row + "\n")
print(row)
PY
