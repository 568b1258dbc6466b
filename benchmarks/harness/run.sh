#!/usr/bin/env bash
# Throughput of one Flask webhook under gunicorn, loaded by wrk with signed Twilio SMS bodies.
#
#   benchmarks/harness/run.sh MODULE:APP PATH [WORKERS] [SECONDS]
#   benchmarks/harness/run.sh baseline_app:app /validated 2 10
#
# Last line printed:  rps=<n> p50_ms=<n> p99_ms=<n> non2xx=<n>
# Settings (environment; defaults in brackets):
#   BENCH_WORKER_CLASS  sync | gthread                          [sync]
#   BENCH_THREADS       threads per gthread worker              [4]
#   BENCH_CONNECTIONS   wrk connections                         [32]
#   BENCH_WRK_THREADS   wrk threads                             [2]
#   BENCH_WARMUP        seconds of unmeasured load first        [2]
#   BENCH_BODIES        distinct signed bodies for the run      [40000]
#   BENCH_AUTH_TOKEN    token the bodies are signed with        [bench-token]
#   BENCH_TOKEN_ENV     more env var names set to that token for the app, e.g. TWILIO_AUTH_TOKEN
#   BENCH_TO            To number(s) in the bodies, comma-sep.  [+14150012345]
#   BENCH_CHDIR         folder gunicorn imports MODULE from     [this folder, always on the path]
#   BENCH_SIGN_URL      URL to sign, if the app sees another one; {port} = the port
#                       [http://127.0.0.1:{port}PATH]
#   BENCH_GUNICORN_ARGS extra gunicorn arguments (word-split)
#   BENCH_STRICT        1: count every non-2xx via a Lua response() callback;
#                       0: only wrk's >=400 count (cheaper for wrk)  [1]
#   BENCH_KEEP          1: keep the temp folder (bodies, logs)  [0]
set -euo pipefail

if [ $# -lt 2 ]; then
    awk 'NR > 1 && !/^#/ { exit } NR > 1 { print }' "$0" >&2
    exit 2
fi

HERE=$(cd "$(dirname "$0")" && pwd)
TARGET=$1
URLPATH=$2
WORKERS=${3:-2}
DURATION=${4:-10}
WORKER_CLASS=${BENCH_WORKER_CLASS:-sync}
THREADS=${BENCH_THREADS:-4}
CONNS=${BENCH_CONNECTIONS:-32}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
WARMUP=${BENCH_WARMUP:-2}
BODIES=${BENCH_BODIES:-40000}
CHDIR=${BENCH_CHDIR:-$HERE}
STRICT=${BENCH_STRICT:-1}
export BENCH_AUTH_TOKEN=${BENCH_AUTH_TOKEN:-bench-token}
for name in $(tr ',' ' ' <<<"${BENCH_TOKEN_ENV:-}"); do export "$name=$BENCH_AUTH_TOKEN"; done

command -v wrk >/dev/null || { echo "run.sh: wrk not found (apt-get install wrk)" >&2; exit 2; }
# The real interpreter, not a shim, so that $! below is gunicorn's master itself.
PY=$(python3 -c 'import sys; print(sys.executable)')
"$PY" -c 'import gunicorn' 2>/dev/null || { echo "run.sh: gunicorn not importable by $PY" >&2; exit 2; }

WORK=$(mktemp -d -t bench-run.XXXXXX)
GPID=""
stop_gunicorn() {
    [ -n "$GPID" ] || return 0
    local kids
    kids=$(pgrep -P "$GPID" || true)
    kill -TERM "$GPID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$GPID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$GPID" 2>/dev/null; then
        kill -KILL "$GPID" 2>/dev/null || true
        for k in $kids; do kill -KILL "$k" 2>/dev/null || true; done
    fi
    wait "$GPID" 2>/dev/null || true
    GPID=""
}
cleanup() {
    stop_gunicorn
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT$URLPATH"
SIGN_URL=${BENCH_SIGN_URL:-$URL}
SIGN_URL=${SIGN_URL//\{port\}/$PORT}
SALT="$(date +%s%N)-$$"

# Start gunicorn first; bodies are generated while it boots.
GARGS=(-w "$WORKERS" -b "127.0.0.1:$PORT" --chdir "$CHDIR" --pythonpath "$HERE" --log-level warning
       --error-logfile "$WORK/gunicorn.log")
if [ "$WORKER_CLASS" = gthread ]; then
    GARGS+=(-k gthread --threads "$THREADS")
elif [ "$WORKER_CLASS" != sync ]; then
    GARGS+=(-k "$WORKER_CLASS")
fi
# shellcheck disable=SC2206
GARGS+=(${BENCH_GUNICORN_ARGS:-})
"$PY" -m gunicorn "${GARGS[@]}" "$TARGET" &
GPID=$!

PAYLOAD=("$PY" "$HERE/twilio_payload.py" --url "$SIGN_URL" --token "$BENCH_AUTH_TOKEN")
"${PAYLOAD[@]}" --count "$BODIES" --salt "$SALT" --out "$WORK/bodies.tsv"
"${PAYLOAD[@]}" --count "$(( BODIES / 4 > 2000 ? BODIES / 4 : 2000 ))" --salt "$SALT-warm" \
    --out "$WORK/warm.tsv"
"${PAYLOAD[@]}" --count 2 --salt "$SALT-pre" > "$WORK/pre.txt"
PRE_SIG=$(sed -n 1p "$WORK/pre.txt"); PRE_BODY=$(sed -n 2p "$WORK/pre.txt")
FORGED_BODY=$(sed -n 4p "$WORK/pre.txt")

post() {  # post SIGNATURE BODY -> prints HTTP status (000 = no connection)
    curl -s -o "$WORK/post.out" -w '%{http_code}' --max-time 10 -X POST \
        -H 'Content-Type: application/x-www-form-urlencoded' -H "X-Twilio-Signature: $1" \
        --data-binary "$2" "$URL" || true
}

# Ready = the first signed request gets an answer; it must be 200.
code=000
for _ in $(seq 300); do
    kill -0 "$GPID" 2>/dev/null || { echo "run.sh: gunicorn exited:" >&2; cat "$WORK/gunicorn.log" >&2; exit 1; }
    code=$(post "$PRE_SIG" "$PRE_BODY")
    [ "$code" != 000 ] && break
    sleep 0.1
done
if [ "$code" != 200 ]; then
    echo "run.sh: signed request to $URL got $code, not 200 (signed URL: $SIGN_URL):" >&2
    head -c 600 "$WORK/post.out" >&2; echo >&2; tail -20 "$WORK/gunicorn.log" >&2
    exit 1
fi
forged=$(post "forged0000000000000000000000=" "$FORGED_BODY")

echo "target=$TARGET path=$URLPATH workers=$WORKERS class=$WORKER_CLASS$([ "$WORKER_CLASS" = gthread ] && echo "x$THREADS") conns=$CONNS wrk_threads=$WRK_THREADS duration=${DURATION}s port=$PORT"
echo "preflight signed=$code forged_signature=$forged (403 = target checks signatures)"

LUA=("$HERE/twilio.lua")
strict_arg=$([ "$STRICT" = 1 ] && echo strict || echo loose)
if [ "$WARMUP" != 0 ]; then
    wrk -t"$WRK_THREADS" -c"$CONNS" -d"${WARMUP}s" -s "${LUA[0]}" "$URL" -- "$WORK/warm.tsv" "$WRK_THREADS" loose >/dev/null
fi

# CPU accounting: jiffies of gunicorn's master + workers and of the whole machine,
# sampled around the measured wrk run; wrk's own user+sys from bash's `time`.
ticks_of() {  # utime+stime of one pid (fields 14, 15 of /proc/PID/stat)
    local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    echo $(( ${12} + ${13} ))
}
gunicorn_ticks() {
    local t=0 p
    for p in "$GPID" $(pgrep -P "$GPID" || true); do t=$(( t + $(ticks_of "$p") )); done
    echo "$t"
}
machine() { awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat; }  # total idle

HZ=$(getconf CLK_TCK)
NCPU=$(nproc)
WORKERS_BEFORE=$(pgrep -P "$GPID" | sort | tr '\n' ' ')
g0=$(gunicorn_ticks); read -r m0 i0 < <(machine)
TIMEFORMAT='WRKTIME %3U %3S %3R'
{ time wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s "${LUA[0]}" "$URL" \
      -- "$WORK/bodies.tsv" "$WRK_THREADS" "$strict_arg" > "$WORK/wrk.out" ; } 2> "$WORK/wrk.time"
g1=$(gunicorn_ticks); read -r m1 i1 < <(machine)
WORKERS_AFTER=$(pgrep -P "$GPID" | sort | tr '\n' ' ')

line=$(grep '^WRKBENCH ' "$WORK/wrk.out") || { cat "$WORK/wrk.out" "$WORK/wrk.time" >&2; exit 1; }
echo "${line#WRKBENCH }"
val() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" ${line#WRKBENCH }"; }
read -r _ wu ws wr < <(grep '^WRKTIME' "$WORK/wrk.time")
awk -v wu="$wu" -v ws="$ws" -v wr="$wr" -v g="$(( g1 - g0 ))" -v hz="$HZ" \
    -v mt="$(( m1 - m0 ))" -v mi="$(( i1 - i0 ))" -v n="$NCPU" -v req="$(val requests)" -v dur="$(val duration_s)" 'BEGIN {
    printf "cpu wrk=%.2f cores gunicorn=%.2f cores machine_busy=%.2f/%d cores (over %.1f s)" \
        " gunicorn_cpu_ms_per_req=%.3f wrk_cpu_ms_per_req=%.3f\n",
        (wu + ws) / wr, g / hz / dur, (mt - mi) / mt * n, n, wr,
        g / hz * 1000 / req, (wu + ws) * 1000 / req }'
[ "$WORKERS_BEFORE" = "$WORKERS_AFTER" ] || echo "warning: gunicorn workers changed during the run ($WORKERS_BEFORE -> $WORKERS_AFTER); see its log" >&2
if grep -qiE 'error|exception|timeout' "$WORK/gunicorn.log"; then
    echo "warning: gunicorn log has errors:" >&2; grep -iE 'error|exception|timeout' "$WORK/gunicorn.log" | tail -5 >&2
fi

if [ "$STRICT" = 1 ]; then bad=$(val strict_non2xx); else bad=$(val status_ge400); fi
sockerr=$(( $(val connect) + $(val read) + $(val write) + $(val timeout) ))
[ "$(val wrapped)" = 0 ] || echo "warning: bodies reused (wrapped=$(val wrapped)); raise BENCH_BODIES" >&2
printf 'rps=%.0f p50_ms=%s p99_ms=%s non2xx=%d\n' "$(val rps)" "$(val p50_ms)" "$(val p99_ms)" $(( bad + sockerr ))
