#!/usr/bin/env bash
# Kill -9 in the middle of a full sync: koi-wecom-sandbox seeds N customers, `koi serve` starts the demo team's full
# sync over HTTP, is killed with SIGKILL once about a third of the customers are in, and is started again. The sync
# must resume (same job, not restarted), finish, and leave exactly the sandbox's rows; the customer pages fetched
# before the kill are not fetched again (at most the page in flight when it died).
# Usage: tests/cli/wecom_kill9_test.sh BUILD_DIR [customers]   (ctest runs 3000 with the test build;
# bench/wecom/kill9.sh runs 100000 with the Release build and records the result)
set -uo pipefail
build=$1
n=${2:-3000}
dir=$(mktemp -d /tmp/koi-kill9.XXXXXX); mkdir -p "$dir/www"
koi_pid=""; sandbox_pid=""
trap 'kill -9 $koi_pid 2>/dev/null; kill $sandbox_pid 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$dir"' EXIT
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick() { for _ in $(seq 1 50); do p=$((20000 + RANDOM % 12000)); if port_free "$p"; then echo "$p"; return; fi; done; }
port=$(pick); sport=$(pick)
fail() { echo "not ok - $*"; tail -20 "$dir/koi.log" "$dir/koi2.log" 2>/dev/null; exit 1; }
"$build/koi-wecom-sandbox" scenario seed --db "$dir/sandbox.db" --customers "$n" --employees $((n / 200 + 5)) \
  --groups 20 --seed 3 >/dev/null || fail "sandbox seed"
# 10 ms per API call (WeCom itself takes tens) gives the kill a sync in progress to hit, even at 3000 customers.
"$build/koi-wecom-sandbox" serve --db "$dir/sandbox.db" --listen "127.0.0.1:$sport" --latency-ms "${SANDBOX_LATENCY_MS:-10}" \
  >"$dir/sandbox.log" 2>&1 &
sandbox_pid=$!
export KOI_SERVER_LISTEN="127.0.0.1:$port" KOI_DATABASE_URL="sqlite:$dir/koi.db" KOI_LOG_LEVEL=info \
  KOI_WECOM_API_BASE_URL="http://127.0.0.1:$sport" KOI_WECOM_SECRET_KEY_FILE="$dir/key" KOI_SERVER_STATIC_DIR="$dir/www" \
  KOI_JOBS_LEASE_SECONDS=3
for _ in $(seq 1 100); do port_free "$sport" || break; sleep 0.1; done
"$build/koi" seed-demo >"$dir/seed.log" 2>&1 || fail "seed-demo: $(cat "$dir/seed.log")"
sql() { python3 - "$@" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=2)
for a in sys.argv[3:]: c.execute("ATTACH ? AS " + a.split("=")[0], (a.split("=")[1],))
print(*c.execute(sys.argv[2]).fetchone())
PY
}
started=$(date +%s)
"$build/koi" serve >"$dir/koi.log" 2>&1 &
koi_pid=$!
# Kill once about a third of the customers' relationships are in.
target=$(sql "$dir/sandbox.db" "SELECT COUNT(*) / 3 FROM follows")
killed=$(python3 - "$dir/koi.db" "$target" "$koi_pid" <<'PY'
import os, sqlite3, sys, time
db, target, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
deadline = time.time() + 600
while time.time() < deadline:
    try:
        c = sqlite3.connect(db, timeout=1)
        while time.time() < deadline:
            if c.execute("SELECT COUNT(*) FROM wecom_follows").fetchone()[0] >= target:
                os.kill(pid, 9)
                print(1)
                sys.exit(0)
            time.sleep(0.002)
    except sqlite3.Error:
        time.sleep(0.01)
print(0)
PY
)
wait "$koi_pid" 2>/dev/null
[ "$killed" = 1 ] || fail "the sync never reached a third of the customers"
before=$(sql "$dir/koi.db" "SELECT COUNT(*) || ' ' || (SELECT checkpoint FROM jobs WHERE kind = 'wecom.full_sync') FROM wecom_follows")
echo "# killed with $before"
"$build/koi" serve >"$dir/koi2.log" 2>&1 &
koi_pid=$!
state=""
for _ in $(seq 1 12000); do
  state=$(sql "$dir/koi.db" "SELECT state FROM jobs WHERE kind = 'wecom.full_sync'" 2>/dev/null || true)
  [ "$state" = succeeded ] || [ "$state" = failed ] && break
  sleep 0.1
done
[ "$state" = succeeded ] || fail "the sync ended $state"
secs=$(( $(date +%s) - started ))
jobs=$(sql "$dir/koi.db" "SELECT COUNT(*) FROM jobs WHERE kind = 'wecom.full_sync'")
[ "$jobs" = 1 ] || fail "$jobs sync jobs (the restart should resume the one job)"
echo "ok - the sync resumed after kill -9 and succeeded in ${secs}s"
# Row for row: Koi's active relationships, their tags, customers and group members equal the sandbox's.
diff_rows() {  # name, koi query, sandbox query
  local d
  d=$(sql "$dir/koi.db" "SELECT (SELECT COUNT(*) FROM ($2 EXCEPT $3)) + (SELECT COUNT(*) FROM ($3 EXCEPT $2))" "w=$dir/sandbox.db")
  if [ "$d" = 0 ]; then echo "ok - $1 equal the sandbox's"; else echo "not ok - $1 differ in $d rows"; exit 1; fi
}
koi_f="SELECT f.userid, f.external_userid, f.remark, f.createtime, f.add_way, f.state FROM wecom_follows f JOIN wecom_employees e ON e.team_id = f.team_id AND e.userid = f.userid WHERE f.deleted_at IS NULL AND e.status <> 5"
w_f="SELECT f.userid, f.external_userid, f.remark, f.createtime, f.add_way, f.state FROM w.follows f JOIN w.employees e ON e.corp_id = f.corp_id AND e.userid = f.userid WHERE e.status = 1 AND e.customer_contact = 1"
diff_rows "relationships" "$koi_f" "$w_f"
diff_rows "relationship tags" "SELECT userid, external_userid, tag_id FROM wecom_follow_tags" \
  "SELECT t.userid, t.external_userid, t.tag_id FROM w.follow_tags t JOIN w.employees e ON e.corp_id = t.corp_id AND e.userid = t.userid WHERE e.status = 1"
diff_rows "customers" "SELECT external_userid, name, gender FROM wecom_customers" \
  "SELECT DISTINCT c.external_userid, c.name, c.gender FROM w.customers c JOIN w.follows f ON f.corp_id = c.corp_id AND f.external_userid = c.external_userid JOIN w.employees e ON e.corp_id = f.corp_id AND e.userid = f.userid WHERE e.status = 1"
diff_rows "group members" "SELECT chat_id, member_id FROM wecom_group_members" "SELECT chat_id, member_id FROM w.group_members"
total=$(sql "$dir/koi.db" "SELECT COUNT(*) FROM wecom_follows")
expected=$(sql "$dir/sandbox.db" "SELECT COUNT(*) FROM follows f JOIN employees e ON e.corp_id = f.corp_id AND e.userid = f.userid WHERE e.status = 1")
[ "$total" = "$expected" ] || { echo "not ok - $total relationship rows, expected $expected (duplicates or leftovers)"; exit 1; }
# Nothing fetched twice but the page in flight: batch/get_by_user calls vs the pages an uninterrupted sync makes.
calls=$(curl -fs "http://127.0.0.1:$sport/sandbox/calls" | python3 -c 'import json,sys; print(sum(c["calls"] for c in json.load(sys.stdin)["calls"] if c["api"].endswith("get_by_user")))')
pages=$(sql "$dir/sandbox.db" "SELECT SUM((n + 99) / 100) FROM (SELECT COUNT(*) AS n FROM follows f JOIN employees e ON e.corp_id = f.corp_id AND e.userid = f.userid WHERE e.status = 1 AND e.customer_contact = 1 GROUP BY (SELECT COUNT(*) FROM employees e2 WHERE e2.status = 1 AND e2.customer_contact = 1 AND e2.userid < f.userid) / 100)")
echo "# batch/get_by_user calls: $calls for $pages pages"
[ "$calls" -le $((pages + 2)) ] || { echo "not ok - $calls batch calls for $pages pages: pages before the kill were fetched again"; exit 1; }
echo "ok - at most the page in flight was fetched again ($calls calls, $pages pages)"
echo "RESULT customers=$n relationships=$total seconds=$secs killed_at=\"$before\" calls=$calls pages=$pages"
