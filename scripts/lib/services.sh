# Throwaway PostgreSQL and Redis servers on loopback for the test suite (sourced by scripts/test).
# Each function starts a server under the given work directory, waits until it answers, records
# its pid in PIDS (and PGDATA_DIR/PG_BIN for PostgreSQL) so the caller's cleanup stops it, and
# exports the URL the tests read. Returns non-zero when the server cannot be started.

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_postgres() {
    local work="$1" port
    PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [[ -x "$PG_BIN/initdb" ]] || { echo "no PostgreSQL server binaries under /usr/lib/postgresql" >&2; return 1; }
    PGDATA_DIR="$work/pg"
    mkdir -p "$PGDATA_DIR"
    local run=(bash -c)
    if [[ $(id -u) -eq 0 ]]; then  # postgres refuses to run as root
        chown postgres "$work" "$PGDATA_DIR"
        run=(su postgres -c)
    fi
    port="$(free_port)"
    "${run[@]}" "$PG_BIN/initdb -D $PGDATA_DIR -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >"$work/pg-init.log" 2>&1 \
        || { tail -5 "$work/pg-init.log" >&2; return 1; }
    PG_PORT="$port" PG_WORK="$work"
    export PG_BIN PGDATA_DIR PG_PORT PG_WORK  # for restart_postgres, also from a child shell
    pg_ctl_start || { tail -5 "$work/pg.log" >&2; return 1; }
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres faros_test || return 1
    export FAROS_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/faros_test"
}

# pg_ctl as the postgres user when we are root (postgres refuses to run as root).
pg_ctl_as_owner() {
    if [[ $(id -u) -eq 0 ]]; then su postgres -c "$PG_BIN/pg_ctl $*"; else bash -c "$PG_BIN/pg_ctl $*"; fi
}

pg_ctl_start() {
    pg_ctl_as_owner "-D $PGDATA_DIR -l $PG_WORK/pg.log -w -t 30 -o '-p $PG_PORT -k $PG_WORK -c listen_addresses=127.0.0.1 -c max_connections=400' start" >/dev/null
}

# Stops the throwaway PostgreSQL the fast way (sessions are cut, as in a crash of the server
# process), waits $1 seconds (default 2), and starts it again on the same port and data.
restart_postgres() {
    pg_ctl_as_owner "-D $PGDATA_DIR -m fast -w stop" >/dev/null || return 1
    sleep "${1:-2}"
    pg_ctl_start
}

start_redis() {
    local work="$1" port
    command -v redis-server >/dev/null || { echo "redis-server not installed" >&2; return 1; }
    port="$(free_port)"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
        --logfile "$work/redis.log" --daemonize no &
    PIDS+=("$!")
    for _ in $(seq 1 50); do
        redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && {
            export FAROS_TEST_REDIS_URL="redis://127.0.0.1:$port"
            return 0
        }
        sleep 0.1
    done
    return 1
}
