#!/usr/bin/env bash
# Kill -9 at random points of a 200,000-recipient mass message (tests/cli/messaging_kill9_test.sh with the Release
# build): after every restart the send resumes, and every recipient reaches WeCom (the sandbox) exactly once.
# Usage: bench/messaging/kill9.sh [customers=200000] [kills=5] [sandbox latency ms=10]. Prints a Markdown row.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-200000}; kills=${2:-5}; latency=${3:-10}
make --no-print-directory build >/dev/null
log=$(mktemp)
SANDBOX_LATENCY_MS=$latency tests/cli/messaging_kill9_test.sh build "$n" "$kills" | tee "$log"
python3 - "$log" "$latency" <<'PY'
import re, sys, time
text = open(sys.argv[1]).read()
m = re.search(r'RESULT customers=(\d+) recipients=(\d+) chunks=(\d+) kills=(\d+) seconds=(\d+) '
              r'add_msg_template_calls=(\d+) reconciled=(\d+)', text)
ok = "not ok" not in text and m is not None
if not m:
    print("| FAILED | see the log |"); sys.exit(1)
print(f"| {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())} | {m.group(1)} | {m.group(2)} | {m.group(3)} | "
      f"{m.group(4)} | {m.group(6)} | {m.group(7)} | {m.group(5)} | {sys.argv[2]} ms | "
      f"{'all checks passed' if ok else 'FAILED'} |")
PY
