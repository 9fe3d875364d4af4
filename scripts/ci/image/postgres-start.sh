#!/bin/sh
# Throwaway test server, tuned for speed, not durability. A new container gets a fresh cluster
# (its data dir is an empty tmpfs); a stopped container started again keeps the cluster it had,
# so an outage can be staged without losing the data.
set -eu
PGDATA="${PGDATA:-/tmp/pgdata}"
BIN=/usr/lib/postgresql/15/bin
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  rm -rf "$PGDATA"
  "$BIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    --no-sync --no-instructions >/dev/null
  # Tests reach the server through Docker's port mapping, i.e. from outside the container.
  printf 'host all all 0.0.0.0/0 trust\nhost all all ::/0 trust\n' >>"$PGDATA/pg_hba.conf"
  # Single-user mode creates the database without a second server start.
  echo "CREATE DATABASE test" | "$BIN/postgres" --single -D "$PGDATA" -c fsync=off -j postgres >/dev/null
fi
exec "$BIN/postgres" -D "$PGDATA" \
  -c listen_addresses=0.0.0.0 -c port=5432 \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
  -c max_connections=200 -c unix_socket_directories=/tmp
