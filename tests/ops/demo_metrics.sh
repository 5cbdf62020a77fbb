#!/usr/bin/env bash
# ctest ops.demo_metrics: the real binaries' metrics after a simulated run.
#   demo_metrics.sh FASTAGI_DEMO ESL_OUTBOUND COSTRIX_LOAD
# Starts fastagi_demo with --metrics on free ports (port 0: the banner gives the
# ports bound), plays N calls of the demo script with costrix-load, then checks
# GET /metrics: absolute totals, not deltas (a fresh process). Then the same for
# esl_outbound and costrix-load --protocol esl. Loopback only; every wait is
# bounded (30 s), none decides a verdict by its length.
set -euo pipefail

fastagi_demo=$1 esl_outbound=$2 load=$3
calls=${CALLS:-200}
concurrency=${CONCURRENCY:-50}

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
check_eq() {  # NAME ACTUAL EXPECTED
  if [ "$2" = "$3" ]; then echo "ok: $1 = $2"; else fail "$1 = '$2', expected $3"; fi
}

# wait_for FILE REGEX: the first line of FILE matching REGEX (sed -E), within 30 s.
wait_for() {
  local line
  for _ in $(seq 300); do
    line=$(grep -E -m1 "$2" "$1" 2>/dev/null || true)
    [ -n "$line" ] && { echo "$line"; return 0; }
    sleep 0.1
  done
  echo "no line matching '$2' in $1 within 30 s:" >&2
  cat "$1" >&2
  return 1
}

# scrape PORT: the body of GET /metrics (HTTP/1.0: the server closes after the answer).
scrape() {
  local fd
  exec {fd}<>"/dev/tcp/127.0.0.1/$1"
  printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&"$fd"
  timeout 30 cat <&"$fd" | tr -d '\r' | sed '1,/^$/d'
  exec {fd}<&-
}

# sample TEXT SERIES: the value of one series (the whole name with its labels), or "missing".
sample() {
  awk -v s="$2" 'substr($0, 1, length(s) + 1) == s " " { print $NF; found = 1; exit } END { if (!found) print "missing" }' <<<"$1"
}

# until_settled PORT PROTOCOL: scrapes until the sessions of the run are all
# counted and none is active (the server counts a session's end just after
# the caller has seen it close), 30 s at most; prints the last scrape.
until_settled() {
  local text
  for _ in $(seq 300); do
    text=$(scrape "$1")
    if [ "$(sample "$text" "costrix_sessions_total{protocol=\"$2\"}")" = "$calls" ] &&
       [ "$(sample "$text" "costrix_sessions_active{protocol=\"$2\"}")" = 0 ]; then
      break
    fi
    sleep 0.1
  done
  echo "$text"
}

# stop PID LOG: SIGTERM, then the process exits 0 (30 s at most).
stop() {
  kill -TERM "$1"
  for _ in $(seq 300); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$1" 2>/dev/null; then fail "pid $1 still running 30 s after SIGTERM"; return; fi
  local status=0
  wait "$1" || status=$?
  check_eq "exit status of $(basename "$3")" "$status" 0
}

# ---- FastAGI: fastagi_demo, the demo script (ANSWER, GET VARIABLE, STREAM FILE, SET VARIABLE, HANGUP)
"$fastagi_demo" --listen 127.0.0.1:0 --metrics 127.0.0.1:0 --threads 2 >"$work/fastagi.out" 2>&1 &
pids+=($!)
pid=$!
agi_port=$(wait_for "$work/fastagi.out" 'serving agi://' | sed -E 's|.*agi://127\.0\.0\.1:([0-9]+)/.*|\1|')
metrics_port=$(wait_for "$work/fastagi.out" 'metrics at http://' | sed -E 's|.*:([0-9]+)/metrics.*|\1|')
echo "fastagi_demo[$pid]: FastAGI port $agi_port, metrics port $metrics_port"

# Before any call: the series exist, at zero.
text=$(scrape "$metrics_port")
check_eq "fastagi sessions before the run" "$(sample "$text" 'costrix_sessions_total{protocol="fastagi"}')" 0

"$load" --target "127.0.0.1:$agi_port" --script demo --calls "$calls" --concurrency "$concurrency" \
  --threads 1 --quiet >"$work/load-fastagi.out" 2>&1 || { cat "$work/load-fastagi.out" >&2; fail "costrix-load (fastagi) failed calls"; }

text=$(until_settled "$metrics_port" fastagi)
check_eq 'costrix_sessions_total{protocol="fastagi"}' "$(sample "$text" 'costrix_sessions_total{protocol="fastagi"}')" "$calls"
check_eq 'costrix_sessions_active{protocol="fastagi"}' "$(sample "$text" 'costrix_sessions_active{protocol="fastagi"}')" 0
check_eq 'costrix_sessions_refused_total{protocol="fastagi"}' \
  "$(sample "$text" 'costrix_sessions_refused_total{protocol="fastagi"}')" 0
total=0
for command in ANSWER "GET VARIABLE" "STREAM FILE" "SET VARIABLE" HANGUP; do
  n=$(sample "$text" "costrix_commands_total{command=\"$command\"}")
  check_eq "costrix_commands_total{command=\"$command\"}" "$n" "$calls"
  check_eq "costrix_command_duration_seconds_count{command=\"$command\"}" \
    "$(sample "$text" "costrix_command_duration_seconds_count{command=\"$command\"}")" "$n"
  [[ $n =~ ^[0-9]+$ ]] && total=$((total + n))
done
check_eq "the demo script's commands in all" "$total" $((calls * 5))
# No other command was counted: the sum over every command is the demo's five per call.
all=$(awk '/^costrix_commands_total\{/ { s += $NF } END { print s + 0 }' <<<"$text")
check_eq "costrix_commands_total summed over every command" "$all" $((calls * 5))
all=$(awk '/^costrix_command_duration_seconds_count\{/ { s += $NF } END { print s + 0 }' <<<"$text")
check_eq "costrix_command_duration_seconds_count summed" "$all" $((calls * 5))
ended=$(awk '/^costrix_sessions_ended_total\{protocol="fastagi"/ { s += $NF } END { print s + 0 }' <<<"$text")
check_eq 'costrix_sessions_ended_total{protocol="fastagi"} over every cause' "$ended" "$calls"

stop "$pid" "$work/fastagi.out" "$fastagi_demo"
served=$(wait_for "$work/fastagi.out" 'stopped after [0-9]+ calls' | sed -E 's/.*stopped after ([0-9]+) calls.*/\1/')
check_eq "fastagi_demo's own count of calls" "$served" "$calls"

# ---- ESL outbound: esl_outbound's IVR: three applications (answer, play_and_get_digits, say), then
# a hangup (sendmsg, not an execute); each caller keys 12#.
"$esl_outbound" --listen 127.0.0.1:0 --metrics 127.0.0.1:0 --threads 2 >"$work/esl.out" 2>&1 &
pids+=($!)
pid=$!
esl_port=$(wait_for "$work/esl.out" 'serving socket on port' | sed -E 's/.*on port ([0-9]+) .*/\1/')
metrics_port=$(wait_for "$work/esl.out" 'metrics at http://' | sed -E 's|.*:([0-9]+)/metrics.*|\1|')
echo "esl_outbound[$pid]: ESL port $esl_port, metrics port $metrics_port"

"$load" --protocol esl --target "127.0.0.1:$esl_port" --dtmf '12#' --calls "$calls" --concurrency "$concurrency" \
  --threads 1 --quiet >"$work/load-esl.out" 2>&1 || { cat "$work/load-esl.out" >&2; fail "costrix-load (esl) failed calls"; }

text=$(until_settled "$metrics_port" esl_outbound)
check_eq 'costrix_sessions_total{protocol="esl_outbound"}' "$(sample "$text" 'costrix_sessions_total{protocol="esl_outbound"}')" "$calls"
check_eq 'costrix_sessions_active{protocol="esl_outbound"}' "$(sample "$text" 'costrix_sessions_active{protocol="esl_outbound"}')" 0
for app in answer play_and_get_digits say; do
  check_eq "costrix_esl_executes_total{app=\"$app\"}" "$(sample "$text" "costrix_esl_executes_total{app=\"$app\"}")" "$calls"
done
all=$(awk '/^costrix_esl_executes_total\{/ { s += $NF } END { print s + 0 }' <<<"$text")
check_eq "costrix_esl_executes_total summed over every application" "$all" $((calls * 3))
ended=$(awk '/^costrix_sessions_ended_total\{protocol="esl_outbound"/ { s += $NF } END { print s + 0 }' <<<"$text")
check_eq 'costrix_sessions_ended_total{protocol="esl_outbound"} over every cause' "$ended" "$calls"
stop "$pid" "$work/esl.out" "$esl_outbound"

if [ "$failures" -gt 0 ]; then
  echo "demo_metrics: $failures check(s) failed" >&2
  exit 1
fi
echo "demo_metrics: all checks passed ($calls calls each)"
