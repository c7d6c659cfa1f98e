#!/usr/bin/env bash
# The koi CLI against a fresh SQLite database: migrate, config errors, and the jobs commands.
# Usage: tests/cli/koi_cli_test.sh path/to/koi
set -uo pipefail
koi=$1
dir=$(mktemp -d /tmp/koi-cli.XXXXXX)
trap 'rm -rf "$dir"' EXIT
export KOI_DATABASE_URL="sqlite:$dir/koi.db"
fail=0
check() {  # description, then the command; the command must succeed
  local what=$1; shift
  if "$@" >"$dir/out" 2>&1; then echo "ok - $what"; else echo "not ok - $what"; cat "$dir/out"; fail=1; fi
}
refuse() {  # description, expected text, then the command; the command must fail and print the text
  local what=$1 text=$2; shift 2
  if "$@" >"$dir/out" 2>&1; then echo "not ok - $what (succeeded)"; fail=1;
  elif ! grep -q -- "$text" "$dir/out"; then echo "not ok - $what (no \"$text\")"; cat "$dir/out"; fail=1;
  else echo "ok - $what"; fi
}
refuse "jobs list before migrate says what to do" "koi migrate" "$koi" jobs list
check "migrate applies the schema" "$koi" migrate
grep -q "schema version" "$dir/out" || { echo "not ok - migrate output"; fail=1; }
check "migrate again is a no-op" "$koi" migrate
grep -q "applied 0 migration" "$dir/out" || { echo "not ok - second migrate applied something"; fail=1; }
check "jobs list on an empty queue" "$koi" jobs list
grep -q "kind" "$dir/out" || { echo "not ok - jobs list header"; fail=1; }
refuse "cancel of a missing job is an error" "not found" "$koi" jobs cancel 424242
refuse "a typo in a KOI_ variable stops the CLI" "KOI_DATABSE_URL" env KOI_DATABSE_URL=x "$koi" migrate
refuse "a bad config value names the key" "server.listen" env KOI_SERVER_LISTEN=nonsense "$koi" migrate
refuse "serve refuses a console folder that holds the database" "server.static_dir" \
  env KOI_SERVER_STATIC_DIR="$dir" KOI_SERVER_LISTEN=127.0.0.1:0 KOI_WECOM_SECRET_KEY_FILE="$dir/../koi-cli-key-$$" "$koi" serve
check "config-keys prints the table" "$koi" config-keys
grep -q "KOI_DATABASE_URL" "$dir/out" || { echo "not ok - config-keys content"; fail=1; }
check "seed-demo creates the demo team" "$koi" seed-demo
grep -q "13800000000" "$dir/out" || { echo "not ok - seed-demo prints the login"; fail=1; }
check "seed-demo again leaves it alone" "$koi" seed-demo
grep -q "already present" "$dir/out" || { echo "not ok - second seed-demo"; fail=1; }
check "config-keys lists the SMS provider" "$koi" config-keys
grep -q "KOI_SMS_PROVIDER" "$dir/out" || { echo "not ok - sms.provider missing from config-keys"; fail=1; }
refuse "an unknown SMS provider stops the CLI" "sms.provider" env KOI_SMS_PROVIDER=carrier-pigeon "$koi" migrate
exit $fail
