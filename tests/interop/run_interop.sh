#!/usr/bin/env bash
# Interoperability: cpis-engine answers MLLP clients that nobody on this project wrote.
#
#   bash tests/interop/run_interop.sh ENGINE_BINARY [SOURCE_DIR]      (ctest runs it: interop_mllp)
#
# Starts the engine on port 0 with a store in a temporary folder, then sends ADT messages with
#   - mllp_send, from Debian's python3-hl7: one message; five on one connection (MLLP-framed
#     file); three in --loose mode (a text file with \n line ends) read from standard input;
#   - node-hl7-client, from npm (tests/interop/send_node.js): five on one connection, stop-and-wait;
# and checks that every message got exactly one ACK, in order, with MSA-1 AA and MSA-2 equal to
# the MSH-10 it was sent with. One message from a sender the feed does not expect must get AR,
# again with its own MSA-2. Finally SIGTERM must stop the engine with status 0.
#
# Needs mllp_send (python3-hl7), node, and tests/interop/node_modules (npm ci --prefix
# tests/interop): scripts/test provides all three. Any of them missing is a failure, not a skip.
set -euo pipefail

engine=${1:?usage: run_interop.sh ENGINE_BINARY [SOURCE_DIR]}
source_dir=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
data=$source_dir/tests/data/hl7v2
interop=$source_dir/tests/interop

fail() {
  echo "interop: FAILED: $*" >&2
  exit 1
}

# --- what the test needs: missing is a failure with the fix in the message -----------------
[ -x "$engine" ] || fail "no engine binary at $engine"
command -v mllp_send >/dev/null ||
  fail "mllp_send not found: install Debian's python3-hl7 (bash scripts/install-deps --test)"
command -v node >/dev/null || fail "node not found: install nodejs and npm (bash scripts/install-deps --test)"
[ -f "$interop/node_modules/node-hl7-client/package.json" ] ||
  fail "node-hl7-client is not installed in $interop/node_modules: run 'npm ci --prefix tests/interop' (scripts/test does)"
echo "interop: $(mllp_send --version 2>/dev/null | sed 's/^/python3-hl7 /'), node $(node --version)," \
  "node-hl7-client $(node -p "require('$interop/node_modules/node-hl7-client/package.json').version")"

work=$(mktemp -d "${TMPDIR:-/tmp}/cpis-interop.XXXXXX")
engine_pid=
drain_pid=
cleanup() {
  if [ -n "$engine_pid" ] && kill -0 "$engine_pid" 2>/dev/null; then
    kill -KILL "$engine_pid" 2>/dev/null || true
    wait "$engine_pid" 2>/dev/null || true
  fi
  if [ -n "$drain_pid" ]; then wait "$drain_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
show_engine_log() {
  echo "--- engine stdout" >&2
  cat "$work/engine.out" >&2 || true
  echo "--- engine stderr" >&2
  cat "$work/engine.err" >&2 || true
}

# --- the engine: port 0, its own store, the feed expecting EDSYS/RXX01 ----------------------
cat >"$work/cpis-engine.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>TEST</environment>
  <store duplicateWindowHours="168" retentionDays="30" groupCommit="true">
    <sqlite path="store.db"/>
  </store>
  <limits maxMessageBytes="1048576" readTimeoutMs="10000" idleTimeoutMs="60000" maxConnectionsPerListener="16"/>
  <logging format="text" level="notice"/>
  <feed name="interop">
    <expectedSender application="EDSYS" facility="RXX01"/>
    <listener address="127.0.0.1" port="0"/>
    <acknowledgement mode="original"/>
  </feed>
</cpisEngine>
EOF

# Standard output goes through a FIFO so the test can wait for the ready line (no sleeps); once
# it is read, a background cat keeps draining it.
mkfifo "$work/engine.fifo"
"$engine" --config "$work/cpis-engine.xml" >"$work/engine.fifo" 2>"$work/engine.err" &
engine_pid=$!
exec 3<"$work/engine.fifo"
port=
ready=
while IFS= read -r -t 60 line <&3; do
  printf '%s\n' "$line" >>"$work/engine.out"
  case $line in
    "cpis-engine: feed interop listening on "*) port=${line##*:}; port=${port%% *} ;;
    "cpis-engine: ready") ready=1; break ;;
  esac
done
if [ -z "$ready" ] || [ -z "$port" ]; then
  show_engine_log
  fail "the engine did not print its port and 'cpis-engine: ready' within 60 s"
fi
cat <&3 >>"$work/engine.out" &
drain_pid=$!
exec 3<&-
echo "interop: cpis-engine ready on 127.0.0.1:$port"

# --- messages: corpus ADTs with MSH-10 rewritten so that each one is unique -----------------
# with_id FILE ID: the message in FILE (segments ended by \r) with MSH-10 set to ID.
with_id() {
  awk -v id="$2" 'BEGIN { RS = "\r"; ORS = "\r"; FS = OFS = "|" } NR == 1 { $10 = id } { print }' "$1"
}
adts=(adt_a01_bench.hl7 adt_a03_v24.hl7 adt_a04_v24.hl7 adt_a08_v24.hl7 adt_a11_v24.hl7)
wrong_sender=adt_a01_v251.hl7  # EPR/RYY, not this feed's sender

checks=0
# check NAME EXPECTED_FILE ACTUAL_FILE: each holds one "MSA-1 MSA-2" line per message, in order.
check() {
  if ! diff -u "$2" "$3" >"$work/diff"; then
    cat "$work/diff" >&2
    show_engine_log
    fail "$1: the ACKs (+) are not the ones expected (-)"
  fi
  checks=$((checks + 1))
  echo "interop: $1: ok ($(wc -l <"$3") ACKs, each with its MSA-2)"
}
# MSA-1 and MSA-2 of every ACK in mllp_send's output (raw ACKs, MLLP framing included).
acks_of_mllp_send() {
  tr '\r' '\n' <"$1" | awk -F'|' '$1 == "MSA" { print $2, $3 }'
}
frame() { printf '\013'; cat; printf '\034\r'; }

# 1. mllp_send, one message from a file
with_id "$data/adt_a01_bench.hl7" PYHL7-1 | frame >"$work/py1.mllp"
echo "AA PYHL7-1" >"$work/py1.expected"
mllp_send -p "$port" -f "$work/py1.mllp" 127.0.0.1 >"$work/py1.out" || fail "mllp_send (one message) exited with $?"
acks_of_mllp_send "$work/py1.out" >"$work/py1.acks"
check "mllp_send, one message" "$work/py1.expected" "$work/py1.acks"

# 2. mllp_send, five messages on one connection (an MLLP-framed file), then one it must refuse
: >"$work/py5.mllp"
: >"$work/py5.expected"
for i in "${!adts[@]}"; do
  with_id "$data/${adts[$i]}" "PYHL7-MULTI-$((i + 1))" | frame >>"$work/py5.mllp"
  echo "AA PYHL7-MULTI-$((i + 1))" >>"$work/py5.expected"
done
with_id "$data/$wrong_sender" PYHL7-MULTI-WRONG | frame >>"$work/py5.mllp"
echo "AR PYHL7-MULTI-WRONG" >>"$work/py5.expected"
mllp_send -p "$port" -f "$work/py5.mllp" 127.0.0.1 >"$work/py5.out" || fail "mllp_send (six messages) exited with $?"
acks_of_mllp_send "$work/py5.out" >"$work/py5.acks"
check "mllp_send, six messages on one connection (five AA, one AR)" "$work/py5.expected" "$work/py5.acks"

# 3. mllp_send --loose: a text file with \n line ends, messages one after the other, on stdin
: >"$work/loose.txt"
: >"$work/loose.expected"
for i in 1 2 3; do
  with_id "$data/${adts[$i]}" "PYHL7-LOOSE-$i" | tr '\r' '\n' >>"$work/loose.txt"
  echo "AA PYHL7-LOOSE-$i" >>"$work/loose.expected"
done
mllp_send -p "$port" --loose -f "$work/loose.txt" 127.0.0.1 >"$work/loose.out" ||
  fail "mllp_send --loose exited with $?"
acks_of_mllp_send "$work/loose.out" >"$work/loose.acks"
check "mllp_send --loose, three messages on one connection" "$work/loose.expected" "$work/loose.acks"

# 4. node-hl7-client, one message
with_id "$data/adt_a01_bench.hl7" NODE-1 >"$work/node1.hl7"
echo "AA NODE-1" >"$work/node1.expected"
node "$interop/send_node.js" "127.0.0.1:$port" "$work/node1.hl7" >"$work/node1.acks" ||
  fail "send_node.js (one message) exited with $?"
check "node-hl7-client, one message" "$work/node1.expected" "$work/node1.acks"

# 5. node-hl7-client, five messages on one connection, stop-and-wait
files=()
: >"$work/node5.expected"
for i in "${!adts[@]}"; do
  with_id "$data/${adts[$i]}" "NODE-MULTI-$((i + 1))" >"$work/node5-$i.hl7"
  files+=("$work/node5-$i.hl7")
  echo "AA NODE-MULTI-$((i + 1))" >>"$work/node5.expected"
done
node "$interop/send_node.js" "127.0.0.1:$port" "${files[@]}" >"$work/node5.acks" ||
  fail "send_node.js (five messages) exited with $?"
check "node-hl7-client, five messages on one connection" "$work/node5.expected" "$work/node5.acks"

# 6. node-hl7-client, a sender the feed does not expect: AR, and send_node.js exits 1
with_id "$data/$wrong_sender" NODE-WRONG >"$work/nodewrong.hl7"
echo "AR NODE-WRONG" >"$work/nodewrong.expected"
status=0
node "$interop/send_node.js" "127.0.0.1:$port" "$work/nodewrong.hl7" >"$work/nodewrong.acks" || status=$?
[ "$status" = 1 ] || fail "send_node.js should exit 1 on an AR, not $status"
check "node-hl7-client, unexpected sender refused" "$work/nodewrong.expected" "$work/nodewrong.acks"

# --- SIGTERM: a clean stop -----------------------------------------------------------------
kill -TERM "$engine_pid"
status=0
wait "$engine_pid" || status=$?
engine_pid=
if [ "$status" != 0 ]; then
  show_engine_log
  fail "the engine exited with status $status after SIGTERM"
fi
echo "interop: $checks passed, 0 failed"
