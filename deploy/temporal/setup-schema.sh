#!/bin/sh
# One-shot service `temporal-schema` of docker-compose.yml, in the temporalio/admin-tools image:
# creates Temporal's two databases in the shared Postgres and brings their schema to the version
# this image ships (its versioned schema folders). Each step keeps what exists (an existing
# database, a schema already past 0.0) and only applies what is missing, so it runs on every `up`,
# and after changing the images' version it is the schema upgrade. The server starts once it exits 0.
set -eu
: "${POSTGRES_HOST:?}" "${POSTGRES_USER:?}" "${POSTGRES_PASSWORD:?}"

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_HOST" -p "${POSTGRES_PORT:-5432}" \
    -u "$POSTGRES_USER" --pw "$POSTGRES_PASSWORD" "$@"
}

# database name, then its schema folder under /etc/temporal/schema/postgresql/v12/
for pair in temporal:temporal temporal_visibility:visibility; do
  database=${pair%%:*}
  schema=/etc/temporal/schema/postgresql/v12/${pair#*:}/versioned
  echo "== $database"
  sql_tool --db "$database" create-database
  sql_tool --db "$database" setup-schema -v 0.0
  sql_tool --db "$database" update-schema -d "$schema"
done
echo "Temporal's schema is up to date"
