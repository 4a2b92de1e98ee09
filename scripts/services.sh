# Starts and stops the PostgreSQL and Redis that ./run.sh and ./test.sh use: the one place that knows how.
# Source it, then: ensure_packages PKG..., services_start PROFILE, services_stop.
# PROFILE is "run", "test" or "cluster" (scripts/cluster.sh): each has its own ports and data under .data/PROFILE, so
# tests never touch run data. CHATBLAZOR_DATA moves .data elsewhere (a test's own fleet).
# Servers bind to 127.0.0.1 only. ConnectionStrings__Postgres / Redis__Configuration, when set, name external
# servers and nothing is started for them.
# The app connects as its own role (chatblazor: no superuser; it owns its database and may create the test
# databases). Passwords are generated into .data/PROFILE (mode 600) and never go on a command line.

CB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CB_DATA="${CHATBLAZOR_DATA:-$CB_ROOT/.data}"
CB_STARTED_PG=""
CB_STARTED_REDIS=""
CB_PG_ROLE=chatblazor
CB_PG_DATABASE=chatblazor

cb_log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
cb_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else cb_die "need root or sudo to run: $*"
  fi
}

# Installs the Debian packages that are missing; does nothing (and needs no network) when all are present.
ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  cb_log "Installing ${missing[*]} (apt)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Runs a PostgreSQL server binary as the postgres user when we are root (initdb refuses root).
pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] || cb_die "PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)"
  echo "$dir"
}

# The data folder must be reachable by the postgres user; a checkout under a private home is not.
pg_data_dir() {
  local profile=$1 dir="$CB_DATA/$1/postgres"
  mkdir -p "$CB_DATA"
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$CB_DATA" 2>/dev/null; then
    # Named after the checkout, as before CHATBLAZOR_DATA existed, so an existing cluster is found again.
    local owner=$CB_ROOT
    [ "$CB_DATA" = "$CB_ROOT/.data" ] || owner=$CB_DATA
    dir="/var/tmp/chatblazor-$(printf '%s' "$owner" | md5sum | cut -c1-12)/$profile/postgres"
  fi
  echo "$dir"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A generated password in FILE, readable by its owner only.
new_secret() {
  [ -f "$1" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr '+/' 'xy' > "$1")
  chmod 600 "$1"
}

# Runs the SQL on stdin as the superuser: PORT SUPERUSER_SECRET DATABASE [psql options]. The password travels in
# the environment, which only the same user and root can read, never on a command line.
pg_superuser_sql() {
  local port=$1 secret=$2 database=$3
  shift 3
  PGPASSWORD="$(cat "$secret")" "$(pg_bin)/psql" -h 127.0.0.1 -p "$port" -U postgres -d "$database" -X -q -v ON_ERROR_STOP=1 "$@"
}

# The app's role, with the password in its file; and, for a data folder from before the app had a role of its own
# (its database and tables owned by postgres), ownership of the database, its public schema and all in it.
ensure_app_role() {
  local port=$1 secret=$2 app_secret=$3 exists
  pg_superuser_sql "$port" "$secret" postgres >/dev/null <<SQL || cb_die "could not create the PostgreSQL role $CB_PG_ROLE"
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$CB_PG_ROLE') THEN CREATE ROLE $CB_PG_ROLE; END IF;
END \$\$;
ALTER ROLE $CB_PG_ROLE WITH LOGIN CREATEDB NOSUPERUSER NOCREATEROLE PASSWORD '$(cat "$app_secret")';
SQL
  exists=$(pg_superuser_sql "$port" "$secret" postgres -tA <<<"SELECT 1 FROM pg_database WHERE datname = '$CB_PG_DATABASE'") \
    || cb_die "could not query PostgreSQL on port $port"
  if [ "$exists" != 1 ]; then
    # Made here, owned by the role, so the first migrate finds it (rather than logging a failed connection first).
    pg_superuser_sql "$port" "$secret" postgres >/dev/null <<<"CREATE DATABASE $CB_PG_DATABASE OWNER $CB_PG_ROLE" \
      || cb_die "could not create database $CB_PG_DATABASE"
    return 0
  fi
  pg_superuser_sql "$port" "$secret" postgres >/dev/null <<<"ALTER DATABASE $CB_PG_DATABASE OWNER TO $CB_PG_ROLE" \
    || cb_die "could not hand database $CB_PG_DATABASE to $CB_PG_ROLE"
  # Tables first: their identity and serial sequences follow them; other sequences after.
  pg_superuser_sql "$port" "$secret" "$CB_PG_DATABASE" >/dev/null <<SQL || cb_die "could not hand the tables of $CB_PG_DATABASE to $CB_PG_ROLE"
ALTER SCHEMA public OWNER TO $CB_PG_ROLE;
DO \$\$ DECLARE r record; BEGIN
  FOR r IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND pg_get_userbyid(c.relowner) <> '$CB_PG_ROLE' LOOP
    EXECUTE format('ALTER %s %s OWNER TO $CB_PG_ROLE',
      CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, r.name);
  END LOOP;
  FOR r IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind = 'S' AND pg_get_userbyid(c.relowner) <> '$CB_PG_ROLE' LOOP
    EXECUTE format('ALTER SEQUENCE %s OWNER TO $CB_PG_ROLE', r.name);
  END LOOP;
END \$\$;
SQL
}

start_postgres() {
  local profile=$1 port=$2 bin data secret app_secret
  bin=$(pg_bin)
  data=$(pg_data_dir "$profile")
  secret="$CB_DATA/$profile/postgres.password"        # the superuser's: for this script only
  app_secret="$CB_DATA/$profile/$CB_PG_ROLE.password" # the app's role
  mkdir -p "$CB_DATA/$profile" "$(dirname "$data")"
  new_secret "$secret"
  new_secret "$app_secret"

  if [ ! -s "$data/PG_VERSION" ]; then
    cb_log "Creating PostgreSQL cluster in $data"
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$(dirname "$data")"
    # initdb runs as postgres and reads the password from a file: a copy only postgres can read, removed at once.
    local pwfile; pwfile=$(mktemp); chmod 600 "$pwfile"
    [ "$(id -u)" = 0 ] && chown postgres "$pwfile"
    cat "$secret" > "$pwfile"
    pg_as_owner "$bin/initdb" -D "$data" -U postgres --auth=scram-sha-256 --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 >/dev/null \
      || { rm -f "$pwfile"; cb_die "initdb failed for $data"; }
    rm -f "$pwfile"
  fi

  if pg_as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    cb_log "PostgreSQL already running on 127.0.0.1:$port"
  else
    port_busy "$port" && cb_die "port $port is taken by another program; set CHATBLAZOR_${CB_PORT_PREFIX}PG_PORT to a free port"
    cb_log "Starting PostgreSQL on 127.0.0.1:$port"
    # Noted before starting, so that even a start that fails half-way is stopped on exit.
    CB_STARTED_PG="$data"
    # Test databases live for one test class: autovacuum would only get in the way of dropping them (its workers
    # belong to no role the tests may signal, so DROP DATABASE ... WITH (FORCE) fails while one runs).
    local options="-p $port -k /tmp -c listen_addresses=127.0.0.1"
    [ "$profile" = test ] && options="$options -c autovacuum=off"
    pg_as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
      -o "$options" start >/dev/null \
      || cb_die "PostgreSQL did not start; see $data/server.log"
  fi
  ensure_app_role "$port" "$secret" "$app_secret"
  export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$port;Username=$CB_PG_ROLE;Password=$(cat "$app_secret");Database=$CB_PG_DATABASE"
}

start_redis() {
  local profile=$1 port=$2 dir="$CB_DATA/$1/redis" secret="$CB_DATA/$1/redis.password"
  mkdir -p "$dir"
  new_secret "$secret"
  if redis_ping "$port" "$secret"; then
    cb_log "Redis already running on 127.0.0.1:$port"
  else
    port_busy "$port" && cb_die "port $port is taken by another program; set CHATBLAZOR_${CB_PORT_PREFIX}REDIS_PORT to a free port"
    cb_log "Starting Redis on 127.0.0.1:$port"
    CB_STARTED_REDIS="$port"
    # The password travels on stdin so it never shows in the process list.
    printf 'bind 127.0.0.1\nport %s\ndir %s\ndaemonize yes\npidfile %s/redis.pid\nlogfile %s/redis.log\nrequirepass %s\n' \
      "$port" "$dir" "$dir" "$dir" "$(cat "$secret")" | redis-server - >/dev/null || cb_die "Redis did not start; see $dir/redis.log"
    for _ in $(seq 50); do
      redis_ping "$port" "$secret" && break
      sleep 0.1
    done
  fi
  export Redis__Configuration="127.0.0.1:$port,password=$(cat "$secret")"
}

# redis-cli reads the password from REDISCLI_AUTH, so it is not in its arguments (and the process list).
redis_cli() {
  local port=$1 secret=$2
  shift 2
  REDISCLI_AUTH="$(cat "$secret")" redis-cli -h 127.0.0.1 -p "$port" "$@"
}

redis_ping() { redis_cli "$1" "$2" ping 2>/dev/null | grep -q PONG; }

services_start() {
  local profile=$1 pg_port redis_port
  case $profile in
    test) CB_PORT_PREFIX="TEST_"; pg_port=${CHATBLAZOR_TEST_PG_PORT:-55433}; redis_port=${CHATBLAZOR_TEST_REDIS_PORT:-56380} ;;
    cluster) CB_PORT_PREFIX="CLUSTER_"; pg_port=${CHATBLAZOR_CLUSTER_PG_PORT:-8448}; redis_port=${CHATBLAZOR_CLUSTER_REDIS_PORT:-8449} ;;
    *) CB_PORT_PREFIX=""; pg_port=${CHATBLAZOR_PG_PORT:-55432}; redis_port=${CHATBLAZOR_REDIS_PORT:-56379} ;;
  esac
  CB_REDIS_SECRET="$CB_DATA/$profile/redis.password"
  if [ -n "${ConnectionStrings__Postgres:-}" ]; then cb_log "Using PostgreSQL from ConnectionStrings__Postgres"
  else start_postgres "$profile" "$pg_port"; fi
  if [ -n "${Redis__Configuration:-}" ]; then cb_log "Using Redis from Redis__Configuration"
  else start_redis "$profile" "$redis_port"; fi
}

# Stops only what services_start started in this shell, so a second ./run.sh never pulls services from under the first.
# Set it as the EXIT trap before services_start: a start that fails half-way (Redis's port taken after PostgreSQL
# started) exits through cb_die, and what it had started must stop too.
services_stop() {
  if [ -n "$CB_STARTED_PG" ]; then
    cb_log "Stopping PostgreSQL"
    pg_as_owner "$(pg_bin)/pg_ctl" -D "$CB_STARTED_PG" -m fast -w stop >/dev/null 2>&1 || true
    CB_STARTED_PG=""
  fi
  if [ -n "$CB_STARTED_REDIS" ]; then
    cb_log "Stopping Redis"
    redis_cli "$CB_STARTED_REDIS" "$CB_REDIS_SECRET" shutdown >/dev/null 2>&1 || true
    CB_STARTED_REDIS=""
  fi
}
