# Shared by scripts/bench-latency and scripts/bench-sessions (sourced): the server binary, the
# benchmark tools, the seeding venv, and one Faros server at a time started as bench-calls starts
# it. The caller sets ROOT, OUT and WORK, declares `PIDS=()` and calls bench_cleanup on exit.

# The faros binary: FAROS_BIN when set (one already built, say by scripts/test), else a release
# build of the main package. Sets FAROS.
bench_faros() {
    if [[ -n "${FAROS_BIN:-}" ]]; then
        FAROS="$FAROS_BIN"
    else
        echo "$(basename "$0"): building faros (release)" >&2
        (cd "$ROOT" && swift build -c release --product faros >&2)
        FAROS="$(cd "$ROOT" && swift build -c release --show-bin-path)/faros"
    fi
}

# Release builds of the named products of the Benchmarks package (its own .build). Sets BENCH_BIN.
bench_tools() {
    local product
    for product in "$@"; do
        echo "$(basename "$0"): building $product (release; the first time takes minutes)" >&2
        (cd "$ROOT/Benchmarks" && swift build -c release --product "$product" >&2)
    done
    BENCH_BIN="$(cd "$ROOT/Benchmarks" && swift build -c release --show-bin-path)"
}

# The shared closed-loop generator, copied and built exactly as scripts/bench-calls does, so a
# peak measured here is the figure bench-calls would print. Sets WSLOAD and WSBENCH.
bench_wsload() {
    local shared="${FAROS_SHARED_DIR:-$ROOT/../shared}"
    [[ -d "$shared/tools/wsbench" ]] || { echo "$(basename "$0"): wsbench not found under $shared/tools" >&2; exit 2; }
    WSBENCH="$ROOT/.build/wsbench"
    mkdir -p "$WSBENCH"
    (cd "$shared/tools/wsbench" && tar cf - --exclude=./.build --exclude=./results .) | (cd "$WSBENCH" && tar xf -)
    chmod -R u+w "$WSBENCH"
    echo "$(basename "$0"): building wsload (release)" >&2
    (cd "$WSBENCH" && swift build -c release --product wsload >&2)
    WSLOAD="$WSBENCH/.build/release/wsload"
}

# Python with websockets for scripts/e2e/bench_seed.py (the venv scripts/bench-calls makes). Sets VENV.
bench_venv() {
    VENV="$ROOT/.build/test-venv"
    if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import websockets' 2>/dev/null; then
        python3 -m venv "$VENV" && "$VENV/bin/pip" install -q --disable-pip-version-check 'websockets>=13,<16' >&2
    fi
}

# Starts faros on a free port with rate limits off (they would cap a load test, not measure it),
# data in WORK/data-LABEL, log in OUT/LABEL.log (level BENCH_LOG_LEVEL, default warning). Extra arguments go to faros. Sets PORT, SERVER_PID.
bench_start_faros() {
    local label="$1"; shift
    FAROS_RATE_LIMITS=off "$FAROS" --port 0 --log-level ${BENCH_LOG_LEVEL:-warning} --calls-per-second 0 \
        --data-dir "$WORK/data-$label" "$@" > "$WORK/$label.out" 2> "$OUT/$label.log" &
    SERVER_PID=$!; PIDS+=("$SERVER_PID")
    for _ in $(seq 1 300); do
        PORT=$(sed -n 's|^faros listening on http://.*:\([0-9]*\)$|\1|p' "$WORK/$label.out")
        [[ -n "$PORT" ]] && return 0
        sleep 0.1
    done
    echo "$(basename "$0"): faros did not start ($label)" >&2; cat "$OUT/$label.log" >&2; exit 1
}

bench_stop_faros() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
}

# One user with N tasks on the running server (bench_seed.py). Sets TOKEN and TASK (the first
# task's id; the seeder's tasks follow it). On PostgreSQL, planner statistics as autovacuum
# would keep them (right after seeding there are none for the new rows).
bench_seed() {
    local tasks="$1" seed
    echo "$(basename "$0"): seeding $tasks tasks" >&2
    seed="$("$VENV/bin/python" "$ROOT/scripts/e2e/bench_seed.py" "ws://127.0.0.1:$PORT" --tasks "$tasks")"
    TOKEN="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"])' "$seed")"
    TASK="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["taskId"])' "$seed")"
    if [[ -n "${FAROS_TEST_DATABASE_URL:-}" && "${BENCH_BACKEND:-}" == postgresql ]]; then
        "$PG_BIN/psql" -q "$FAROS_TEST_DATABASE_URL" -c "VACUUM ANALYZE" >&2
    fi
}

# Starts the throwaway PostgreSQL (scripts/lib/services.sh) once. Sets FAROS_TEST_DATABASE_URL.
bench_postgres() {
    [[ -n "${PGDATA_DIR:-}" ]] && return 0
    # shellcheck source=scripts/lib/services.sh
    source "$ROOT/scripts/lib/services.sh"
    start_postgres "$WORK" >&2 || { echo "$(basename "$0"): PostgreSQL did not start" >&2; exit 1; }
}

# The conditions every summary starts with.
bench_conditions() {
    echo "machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(free -g | awk '/^Mem:/ {print $2}') GiB;" \
        "client and server on the same cores, loopback; faros release binary $FAROS ($(date -u -r "$FAROS" +%Y-%m-%dT%H:%MZ));" \
        "commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'); $(date -u +%Y-%m-%dT%H:%M:%SZ)"
}

bench_cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    [[ -n "${PGDATA_DIR:-}" ]] && pg_ctl_as_owner "-D $PGDATA_DIR -m fast stop" >/dev/null 2>&1
    rm -rf "$WORK"
}
