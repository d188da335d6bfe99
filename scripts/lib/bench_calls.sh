# Shared by scripts/bench-calls and scripts/bench-search (sourced after their knobs are set), on
# top of bench_common.sh: bench_prepare, bench_logged_postgres, run (one wsload scenario), floor
# (pgbench on a call's own statements) and ratio. Expects ROOT, OUT, DURATION, WARMUP, CONNS;
# floor() also PG_BIN, PGDATA_DIR and FAROS_TEST_DATABASE_URL.

# shellcheck source=scripts/lib/bench_common.sh
source "$ROOT/scripts/lib/bench_common.sh"

bench_prepare() {  # installs and builds what a run needs (faros from FAROS_BIN or a release
    # build, the shared wsload, the Python venv), raises the descriptor limit, makes WORK and the
    # cleanup trap. Sets FAROS, WSLOAD, WSBENCH, VENV, WORK.
    "$ROOT/scripts/install-deps" --test >&2
    bench_faros
    bench_wsload
    bench_venv
    ulimit -n "$(ulimit -Hn)"
    mkdir -p "$OUT"
    WORK="$(mktemp -d /tmp/faros-bench.XXXXXX)"
    PIDS=()
    trap bench_cleanup EXIT
}

bench_logged_postgres() {  # the throwaway PostgreSQL (once per run) with the statement log that
    # pg_capture.py reads (csvlog, in PGDATA/log; statements are only logged while it captures).
    [[ -z "${PGDATA_DIR:-}" ]] || return 0
    bench_postgres
    "$PG_BIN/psql" -q "$FAROS_TEST_DATABASE_URL" -c "ALTER SYSTEM SET logging_collector = on" \
        -c "ALTER SYSTEM SET log_destination = 'csvlog'" >&2
    restart_postgres 0 >&2
}

run() {  # label scenario conns method params [login] -> one summary line
    local label="$1" scenario="$2" conns="$3" method="$4" params="$5" login="${6:-}"
    local args=(rpc -u "ws://127.0.0.1:$PORT/rpc" -c "$conns" -m "$method" -p "$params"
                -d "$DURATION" -w "$WARMUP" --server-pid "$SERVER_PID" --label "$label")
    [[ -n "$login" ]] && args+=(--login "$login")
    "$WSLOAD" "${args[@]}" > "$OUT/$label-$scenario.txt" 2>&1 || true
    tail -n 1 "$OUT/$label-$scenario.txt" >> "$OUT/$label.jsonl"
    tail -n 1 "$OUT/$label-$scenario.txt" | python3 "$WSBENCH/scripts/summarize.py" "$scenario" | tee -a "$OUT/summary.txt"
}

floor() {  # backend name method params token [pg_capture options]: pgbench on the call's own
    # statements -> FLOOR_<name>
    local backend="$1" name="$2" _
    # Calls still queued from the run before (a slow list's backlog drains after wsload stops)
    # would mix into the capture: wait until no other statement is running.
    for _ in $(seq 1 600); do
        [[ "$("$PG_BIN/psql" -qAtX "$FAROS_TEST_DATABASE_URL" -c \
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'")" == 0 ]] && break
        sleep 0.2
    done
    "$VENV/bin/python" scripts/lib/pg_capture.py --ws "ws://127.0.0.1:$PORT/rpc" --token "$5" --method "$3" --params "$4" \
        --psql "$PG_BIN/psql" --database-url "$FAROS_TEST_DATABASE_URL" --log-dir "$PGDATA_DIR/log" \
        --out "$OUT/$backend-$name.sql" "${@:6}" >&2
    local defines=() line
    while IFS= read -r line; do defines+=(-D "$line"); done < "$OUT/$backend-$name.sql.defines"
    "$PG_BIN/pgbench" -n -M prepared -c "$CONNS" -j 2 -T "$DURATION" "${defines[@]}" -f "$OUT/$backend-$name.sql" \
        "$FAROS_TEST_DATABASE_URL" > "$OUT/$backend-$name-pgbench.txt" 2>&1
    local tps; tps="$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$OUT/$backend-$name-pgbench.txt" | tail -n 1)"
    printf -v "FLOOR_$name" '%s' "$tps"
    echo "  floor $backend $name: pgbench, the same statements, $CONNS clients: ${tps} per second" | tee -a "$OUT/summary.txt"
}

ratio() {  # backend name scenario: Faros's calls/s over the floor's, when there is one
    local var="FLOOR_$2"
    [[ "$1" == postgresql && -n "${!var:-}" ]] || return 0
    python3 scripts/lib/calls_ratio.py "$OUT/$1-$3.txt" "${!var}" "$1 $2" | tee -a "$OUT/summary.txt"
}
