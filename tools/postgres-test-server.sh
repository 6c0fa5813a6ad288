#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 for the store tests and print its URL.
#
#   eval "$(tools/postgres-test-server.sh start)"   # exports VESALIUS_TEST_POSTGRES_URL
#   python -m pytest tests/store
#   tools/postgres-test-server.sh stop "$VESALIUS_TEST_PG_DIR"
#
# The cluster lives in a fresh temp folder, listens only on 127.0.0.1 (a free port, or
# $PGPORT if set), trusts local connections and is tuned for tests (fsync off): never use it
# for real data. initdb and pg_ctl refuse to run as root, so as root they run as the
# `postgres` system user. The test fixtures start their own cluster when this is not used.
set -euo pipefail

bin_dir() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -z "$found" ]]; then
        found=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
    fi
    [[ -x "$found/initdb" ]] || { echo "error: PostgreSQL server binaries not found" >&2; exit 2; }
    echo "$found"
}

as_server_user() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local bin dir port
    bin=$(bin_dir)
    dir=$(mktemp -d /tmp/vesalius-pg-XXXXXX)
    port=${PGPORT:-$(free_port)}
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
    as_server_user "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 >"$dir/initdb.log"
    as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start \
        -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        >/dev/null
    echo "export VESALIUS_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    echo "export VESALIUS_TEST_PG_DIR=$dir"
}

stop() {
    local dir=${1:?usage: $0 stop DIR}
    [[ -d "$dir/data" ]] || { echo "error: $dir is not a cluster folder" >&2; exit 2; }
    as_server_user "$(bin_dir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    stop) stop "${2:-}" ;;
    *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
