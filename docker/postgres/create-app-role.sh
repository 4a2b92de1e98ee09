#!/bin/bash
# Run once by the postgres image, on its first start with an empty data volume (/docker-entrypoint-initdb.d): the
# app's own role and database, as scripts/services.sh makes them for ./run.sh. The app connects as chatblazor, which
# owns its database and is no superuser; POSTGRES_PASSWORD stays the operator's. The password is read from the
# environment by psql itself (\getenv), so it never appears on a command line.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<'SQL'
\getenv app_password CHATBLAZOR_DB_PASSWORD
CREATE ROLE chatblazor WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
CREATE DATABASE chatblazor OWNER chatblazor;
SQL
