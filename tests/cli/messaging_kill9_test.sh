#!/usr/bin/env bash
# Kill -9 during a mass message's send: koi-wecom-sandbox seeds N customers, Koi syncs them, a message to every
# customer is created and sent through the HTTP API, and `koi serve` is killed with SIGKILL at random points of the
# dispatch (KILLS times), each time started again. Afterwards every planned recipient must have been submitted to
# WeCom exactly once: one template per chunk of Koi's ledger (no second template for a chunk, none lost), the
# sandbox's recipients equal Koi's, none twice.
# Usage: tests/cli/messaging_kill9_test.sh BUILD_DIR [customers=3000] [kills=3]   (ctest runs 3000 with the test
# build; bench/messaging/kill9.sh runs 200000 with the Release build and records the result). SYNC_TIMEOUT_S and
# SEND_TIMEOUT_S (900 each) bound the full sync and the send; a million customers need more for the sync.
set -uo pipefail
build=$1
n=${2:-3000}
kills=${3:-3}
dir=$(mktemp -d /tmp/koi-msg-kill9.XXXXXX); mkdir -p "$dir/www"
koi_pid=""; sandbox_pid=""
trap 'kill -9 $koi_pid 2>/dev/null; kill $sandbox_pid 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$dir"' EXIT
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick() { for _ in $(seq 1 50); do p=$((20000 + RANDOM % 12000)); if port_free "$p"; then echo "$p"; return; fi; done; }
port=$(pick); sport=$(pick)
fail() { echo "not ok - $*"; tail -20 "$dir"/koi*.log 2>/dev/null; exit 1; }
sql() { python3 - "$@" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=5)
for a in sys.argv[3:]: c.execute("ATTACH ? AS " + a.split("=")[0], (a.split("=")[1],))
print(*c.execute(sys.argv[2]).fetchone())
PY
}
wait_for() {  # sql, expected value, seconds; polls every 0.1 s for the first 10 s, then every second (each poll
  local v="" i=0 deadline=$(( $(date +%s) + $3 ))  # starts a Python, which would otherwise slow a long sync down)
  while [ "$(date +%s)" -le "$deadline" ]; do
    v=$(sql "$dir/koi.db" "$1" 2>/dev/null || true)
    [ "$v" = "$2" ] && return 0
    i=$((i + 1)); if [ $i -lt 100 ]; then sleep 0.1; else sleep 1; fi
  done
  echo "$v"
  return 1
}
"$build/koi-wecom-sandbox" scenario seed --db "$dir/sandbox.db" --customers "$n" --employees $((n / 200 + 5)) \
  --groups 5 --seed 5 >/dev/null || fail "sandbox seed"
# Some latency per API call (WeCom itself takes tens of ms) gives the kills a send in progress to hit.
"$build/koi-wecom-sandbox" serve --db "$dir/sandbox.db" --listen "127.0.0.1:$sport" --latency-ms "${SANDBOX_LATENCY_MS:-40}" \
  >"$dir/sandbox.log" 2>&1 &
sandbox_pid=$!
# A short lease so the restarted node takes the job over quickly, and a send grace above it (calls take tens of ms
# here) so a chunk left in flight is looked up in WeCom seconds after the restart instead of three minutes.
export KOI_SERVER_LISTEN="127.0.0.1:$port" KOI_DATABASE_URL="sqlite:$dir/koi.db" KOI_LOG_LEVEL=info \
  KOI_WECOM_API_BASE_URL="http://127.0.0.1:$sport" KOI_WECOM_SECRET_KEY_FILE="$dir/key" KOI_SERVER_STATIC_DIR="$dir/www" \
  KOI_JOBS_LEASE_SECONDS=3 KOI_WECOM_SEND_GRACE_SECONDS=10
for _ in $(seq 1 100); do port_free "$sport" || break; sleep 0.1; done
"$build/koi" seed-demo >"$dir/seed.log" 2>&1 || fail "seed-demo: $(cat "$dir/seed.log")"
start_koi() { "$build/koi" serve >"$dir/koi$1.log" 2>&1 & koi_pid=$!; for _ in $(seq 1 100); do port_free "$port" || break; sleep 0.1; done; }
start_koi 0
state=$(wait_for "SELECT state FROM jobs WHERE kind = 'wecom.full_sync'" succeeded "${SYNC_TIMEOUT_S:-900}") || fail "the full sync ended $state"

# Through the API as the demo admin: log in, create a message to every customer, send it.
api="http://127.0.0.1:$port/api/v1"
jar="$dir/cookies"
curl -s -c "$jar" -b "$jar" "$api/auth/session" >/dev/null  # sets the pre-login CSRF cookie
csrf=$(awk '$6 == "koi_csrf" {print $7}' "$jar")
curl -fs -c "$jar" -b "$jar" -H 'content-type: application/json' -H "X-CSRF-Token: $csrf" \
  -d '{"phone":"13800000000","password":"koi2026demo"}' "$api/auth/login" >/dev/null || fail "login"
csrf=$(awk '$6 == "koi_csrf" {print $7}' "$jar")  # the session's own token from now on
post() { curl -fs -b "$jar" -c "$jar" -H 'content-type: application/json' -H "X-CSRF-Token: $csrf" -d "$2" "$api$1"; }
created=$(post /scrm/messages '{"kind":"enterprise","title":"全员通知","content":{"text":"会员日全场 8 折",
  "attachments":[{"type":"link","title":"会员日","url":"https://shop.example.cn/day"}]},"target":{"rule":{"op":"and","children":[]}}}') \
  || fail "create: $(post /scrm/messages '{}')"
# Through a file: a plan with a thousand senders is too long for a command line.
printf '%s' "$created" >"$dir/created.json"
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data"]["id"])' "$dir/created.json")
recipients=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data"]["recipients"])' "$dir/created.json")
post "/scrm/messages/$id/send" '{}' >/dev/null || fail "send"
echo "# message $id to $recipients recipients, $kills kills"

# Kill at random points of the dispatch: after a random number of chunks have been recorded (or are in flight).
started=$(date +%s)
for k in $(seq 1 "$kills"); do
  killed=$(python3 - "$dir/koi.db" "$koi_pid" "$id" "$k" "$kills" <<'PY'
import os, random, sqlite3, sys, time
db, pid, mid, k, kills = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
deadline = time.time() + 900
total = None
while time.time() < deadline:
    try:
        c = sqlite3.connect(db, timeout=1)
        total = total or c.execute("SELECT COUNT(*) FROM mass_message_chunks WHERE message_id = ?", (mid,)).fetchone()[0]
        if not total:
            time.sleep(0.01); continue
        # Spread the kills over the send, each at a random point of its own slice.
        at = int(total * (k - 1 + random.random()) / kills)
        while time.time() < deadline:
            done, intent = c.execute("SELECT SUM(state = 'submitted'), SUM(state = 'intent') FROM mass_message_chunks "
                                     "WHERE message_id = ?", (mid,)).fetchone()
            if (done or 0) >= at:
                os.kill(pid, 9)
                print(f"{done or 0}/{total} {intent or 0}")
                sys.exit(0)
            time.sleep(0.001)
    except sqlite3.Error:
        time.sleep(0.01)
print("none")
PY
)
  wait "$koi_pid" 2>/dev/null
  [ "$killed" != none ] || fail "kill $k never happened"
  echo "# kill $k: chunks submitted/total, in intent: $killed"
  start_koi "$k"
done
state=$(wait_for "SELECT state FROM mass_messages WHERE id = $id" sent "${SEND_TIMEOUT_S:-900}") || fail "the message ended $state"
secs=$(( $(date +%s) - started ))
echo "ok - the send finished after $kills kills in ${secs}s"

chunks=$(sql "$dir/koi.db" "SELECT COUNT(*) FROM mass_message_chunks WHERE message_id = $id AND state = 'submitted'")
all_chunks=$(sql "$dir/koi.db" "SELECT COUNT(*) FROM mass_message_chunks WHERE message_id = $id")
templates=$(sql "$dir/sandbox.db" "SELECT COUNT(*) FROM msg_templates")
[ "$chunks" = "$all_chunks" ] || fail "$chunks of $all_chunks chunks submitted"
[ "$templates" = "$chunks" ] || fail "$templates templates in WeCom for $chunks chunks (a chunk was created twice or lost)"
echo "ok - $templates templates for $chunks chunks"
results=$(sql "$dir/sandbox.db" "SELECT COUNT(*) || ' ' || COUNT(DISTINCT external_userid) FROM msg_results")
[ "$results" = "$recipients $recipients" ] || fail "WeCom holds $results recipients (rows, distinct) for $recipients planned"
# Row for row: each chunk's msgid in Koi holds exactly that chunk's recipients in WeCom.
d=$(sql "$dir/koi.db" "SELECT (SELECT COUNT(*) FROM (SELECT k.msgid, r.external_userid FROM mass_message_recipients r JOIN mass_message_chunks k ON k.message_id = r.message_id AND k.chunk = r.chunk WHERE r.message_id = $id AND r.skip = '' EXCEPT SELECT msgid, external_userid FROM w.msg_results)) + (SELECT COUNT(*) FROM (SELECT msgid, external_userid FROM w.msg_results EXCEPT SELECT k.msgid, r.external_userid FROM mass_message_recipients r JOIN mass_message_chunks k ON k.message_id = r.message_id AND k.chunk = r.chunk WHERE r.message_id = $id))" "w=$dir/sandbox.db")
[ "$d" = 0 ] || fail "Koi's ledger and WeCom differ in $d recipient rows"
echo "ok - every one of $recipients recipients submitted exactly once, under the chunk Koi recorded"
calls=$(curl -fs "http://127.0.0.1:$sport/sandbox/calls" | python3 -c 'import json,sys; print(sum(c["calls"] for c in json.load(sys.stdin)["calls"] if c["api"].endswith("add_msg_template")))')
reconciled=$(cat "$dir"/koi*.log | grep -c "recorded, not sent again" || true)
echo "RESULT customers=$n recipients=$recipients chunks=$chunks kills=$kills seconds=$secs add_msg_template_calls=$calls reconciled=$reconciled"
