# Shared by scripts/bench-calls and scripts/bench-search (sourced after their knobs are set):
# bench_prepare, start_faros, run (one wsload scenario), floor (pgbench on a call's own statements) and ratio.
# Expects ROOT, SHARED, WSBENCH, OUT, DURATION, WARMUP, CONNS; floor() also
# PG_BIN, PGDATA_DIR and FAROS_TEST_DATABASE_URL.

bench_prepare() {  # name: installs and builds what a run needs (faros from FAROS_BIN or a release
    # build, the shared wsload, the Python venv), raises the descriptor limit, makes WORK and the
    # cleanup trap (servers in PIDS, a PostgreSQL in PGDATA_DIR). Sets FAROS, WSLOAD, VENV, WORK.
    scripts/install-deps --test >&2
    [[ -n "${FAROS_BIN:-}" ]] || echo "$1: building faros (release)" >&2
    if [[ -n "${FAROS_BIN:-}" ]]; then  # a faros already built (e.g. by scripts/test), to skip the build
        FAROS="$FAROS_BIN"
    else
        swift build -c release --product faros >&2
        FAROS="$(swift build -c release --show-bin-path)/faros"
    fi
    mkdir -p "$WSBENCH" "$OUT"
    (cd "$SHARED/tools/wsbench" && tar cf - --exclude=./.build --exclude=./results .) | (cd "$WSBENCH" && tar xf -)
    chmod -R u+w "$WSBENCH"
    echo "$1: building wsload (release; first time takes minutes)" >&2
    (cd "$WSBENCH" && swift build -c release --product wsload >&2)
    WSLOAD="$WSBENCH/.build/release/wsload"
    VENV="$ROOT/.build/test-venv"
    if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import websockets' 2>/dev/null; then
        python3 -m venv "$VENV" && "$VENV/bin/pip" install -q --disable-pip-version-check 'websockets>=13,<16' >&2
    fi
    ulimit -n "$(ulimit -Hn)"

    WORK="$(mktemp -d /tmp/faros-bench.XXXXXX)"
    PIDS=()
    cleanup() {
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
        [[ -n "${PGDATA_DIR:-}" ]] && su postgres -c "$PG_BIN/pg_ctl -D $PGDATA_DIR -m fast stop" >/dev/null 2>&1
        rm -rf "$WORK"
    }
    trap cleanup EXIT
}

bench_postgres() {  # name: a throwaway PostgreSQL (once per run) whose statement log
    # pg_capture.py reads (csvlog, in PGDATA/log; statements are only logged while it captures).
    [[ -z "${PGDATA_DIR:-}" ]] || return 0
    start_postgres "$WORK" >&2 || { echo "$1: PostgreSQL did not start" >&2; exit 1; }
    "$PG_BIN/psql" -q "$FAROS_TEST_DATABASE_URL" -c "ALTER SYSTEM SET logging_collector = on" \
        -c "ALTER SYSTEM SET log_destination = 'csvlog'" >&2
    restart_postgres 0 >&2
}

start_faros() {  # label, extra args...; sets PORT and SERVER_PID
    local label="$1"; shift
    FAROS_RATE_LIMITS=off "$FAROS" --port 0 --log-level warning --calls-per-second 0 \
        --data-dir "$WORK/data-$label" "$@" > "$WORK/$label.out" 2> "$OUT/$label.log" &
    SERVER_PID=$!; PIDS+=("$SERVER_PID")
    for _ in $(seq 1 300); do
        PORT=$(sed -n 's|^faros listening on http://.*:\([0-9]*\)$|\1|p' "$WORK/$label.out")
        [[ -n "$PORT" ]] && return 0
        sleep 0.1
    done
    echo "bench-calls: faros did not start ($label)" >&2; cat "$OUT/$label.log" >&2; exit 1
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
    local backend="$1" name="$2"
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
