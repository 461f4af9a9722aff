#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: trust authentication on 127.0.0.1, a free port, no fsync.
#   scripts/throwaway-postgres.sh start   prints "<dir> <url>"  (the cluster lives in <dir>)
#   scripts/throwaway-postgres.sh start --tls <cert.pem> <key.pem>
#                                          the same, with ssl=on and that certificate (plain connections stay allowed)
#   scripts/throwaway-postgres.sh stop <dir>                     stops it and removes <dir>
# initdb refuses to run as root: as root, the cluster belongs to the `postgres` user (Debian's packages
# create it). The binaries are taken from PATH, else from Debian's /usr/lib/postgresql/<version>/bin.
set -euo pipefail

bin_dir() {
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  local latest
  latest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$latest" ] && [ -x "$latest/initdb" ]; then echo "$latest"; return; fi
  echo "throwaway-postgres: no initdb on PATH nor in /usr/lib/postgresql/*/bin (install Debian's postgresql-15, or set TEST_DATABASE_URL)" >&2
  exit 1
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    tls_cert= tls_key=
    if [ "${2:-}" = --tls ]; then
      tls_cert=${3:?usage: throwaway-postgres.sh start --tls <cert.pem> <key.pem>}
      tls_key=${4:?usage: throwaway-postgres.sh start --tls <cert.pem> <key.pem>}
    fi
    bin=$(bin_dir)
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
      echo "throwaway-postgres: running as root and there is no 'postgres' user to own the cluster" >&2
      exit 1
    fi
    dir=$(mktemp -d /tmp/pg-test-XXXXXX)
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 1; }
    tls_options=
    if [ -n "$tls_cert" ]; then
      # The server refuses a key that others can read; ssl_cert_file and ssl_key_file default to these names.
      install -m 600 "$tls_cert" "$dir/data/server.crt"
      install -m 600 "$tls_key" "$dir/data/server.key"
      [ "$(id -u)" -eq 0 ] && chown postgres "$dir/data/server.crt" "$dir/data/server.key"
      tls_options="-c ssl=on"
    fi
    for _ in 1 2 3 4 5; do
      port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
      if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 -c shared_buffers=32MB $tls_options" \
        start >/dev/null; then
        echo "$dir postgres://postgres@127.0.0.1:$port/postgres"
        exit 0
      fi
    done
    cat "$dir/server.log" >&2
    rm -rf "$dir"
    exit 1
    ;;
  stop)
    dir=${2:?usage: throwaway-postgres.sh stop <dir>}
    case "$dir" in /tmp/pg-test-*) ;; *) echo "throwaway-postgres: not a throwaway cluster: $dir" >&2; exit 1 ;; esac
    as_owner "$(bin_dir)/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start [--tls <cert.pem> <key.pem>] | stop <dir>" >&2
    exit 2
    ;;
esac
