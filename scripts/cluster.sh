#!/usr/bin/env bash
# A ChatBlazor fleet on this machine, as production runs it: NGINX terminating TLS in front of two web instances, one
# standalone inference host, and the shared PostgreSQL and Redis. Everything listens on 127.0.0.1.
#   scripts/cluster.sh up          build if needed, start the fleet in the background, serve https://127.0.0.1:8443;
#                                  run again, it starts only what is not running (an instance that crashed)
#   scripts/cluster.sh status      one line per process: role, name, pid, address, state
#   scripts/cluster.sh restart     rolling restart of the web instances, one at a time (a chat loses nothing)
#   scripts/cluster.sh down        stop exactly what `up` started
#   scripts/cluster.sh admin ...   an operator command against the fleet, as `./run.sh admin ...`
# CHATBLAZOR_CLUSTER_PORT (8443) is the gateway's port; the others follow it: web-1 +1, web-2 +2, inference +3,
# inference health and metrics +4, PostgreSQL +5, Redis +6. The certificate is self-signed (made here with openssl,
# kept in .data/cluster/tls): a browser asks once to trust it.
# CHATBLAZOR_CLUSTER_ENV_FILE names KEY=VALUE lines every web instance also gets (Stripe keys, SMTP, plans, more
# inference hosts), read by `up` and kept until `down` (for `restart`, `admin` and a later `up`): billing is off
# in the fleet unless Stripe__SecretKey is among them.
set -euo pipefail
# Named relative to where the caller stands, read after the cd below.
[ -z "${CHATBLAZOR_CLUSTER_ENV_FILE:-}" ] || CHATBLAZOR_CLUSTER_ENV_FILE=$(realpath -e "$CHATBLAZOR_CLUSTER_ENV_FILE") \
  || { echo "error: CHATBLAZOR_CLUSTER_ENV_FILE names no file" >&2; exit 1; }
cd "$(dirname "$0")/.."
source scripts/services.sh

port=${CHATBLAZOR_CLUSTER_PORT:-8443}
data="$CB_DATA/cluster"
run="$data/run"   # pid files and the web instances' environment
logs="$data/logs"
web_names=(web-1 web-2)
inference_port=$((port + 3))
ops_port=$((port + 4))
export CHATBLAZOR_CLUSTER_PG_PORT=${CHATBLAZOR_CLUSTER_PG_PORT:-$((port + 5))}
export CHATBLAZOR_CLUSTER_REDIS_PORT=${CHATBLAZOR_CLUSTER_REDIS_PORT:-$((port + 6))}
web_dll="$CB_ROOT/ChatBlazor.Web/bin/Release/net10.0/ChatBlazor.Web.dll"
inference_dll="$CB_ROOT/ChatBlazor.Inference/bin/Release/net10.0/ChatBlazor.Inference.dll"
model_name=chatblazor-mini
model_dir="$CB_ROOT/models/chatblazor-mini"

web_port() { case $1 in web-1) echo $((port + 1)) ;; web-2) echo $((port + 2)) ;; esac; }
# The recorded process, if it is still ours: after a reboot or a crash its pid may belong to another program.
pid_of() {
  local pid
  pid=$(cat "$run/$1.pid" 2>/dev/null || true)
  [ -n "$pid" ] && grep -qa -e ChatBlazor -e nginx "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
  true
}
# A killed process stays a zombie until it is reaped, and kill -0 still reaches it: that is not alive.
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
http_ok() { curl -fsS -o /dev/null --max-time 5 "$1" 2>/dev/null; }

# Waits until URL answers 2xx while the process PID lives; a process that exits or takes longer than 3 minutes fails
# the start with the end of its log.
wait_ready() {
  local name=$1 pid=$2 url=$3 log=$4 deadline=$((SECONDS + 180))
  until http_ok "$url"; do
    if ! alive "$pid"; then tail -n 20 "$log" >&2; cb_die "$name exited at start; see $log"; fi
    [ "$SECONDS" -lt "$deadline" ] || { tail -n 20 "$log" >&2; cb_die "$name was not ready within 3 minutes; see $log"; }
    sleep 0.5
  done
}

# Sends SIGTERM and waits for the process to end (a web instance hands its running replies over first), then SIGKILL.
stop_pid() {
  local pid=$1 deadline=$((SECONDS + 60))
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
}

build_if_needed() {
  local dll
  for dll in "$web_dll" "$inference_dll"; do
    if [ ! -f "$dll" ] || [ -n "$(find ChatBlazor.* Migrations Directory.*.props Directory.Build.targets build -newer "$dll" -type f \
          -not -path '*/bin/*' -not -path '*/obj/*' -not -path 'ChatBlazor.StripeEmulator/*' -print -quit 2>/dev/null)" ]; then
      cb_log "Building (Release)"
      dotnet build ChatBlazor.Web/ChatBlazor.Web.csproj -c Release --nologo -v quiet -clp:ErrorsOnly
      touch "$web_dll" "$inference_dll"
      return
    fi
  done
}

# A self-signed certificate for 127.0.0.1 and localhost, made once.
ensure_certificate() {
  mkdir -p "$data/tls"
  [ -s "$data/tls/cert.pem" ] && [ -s "$data/tls/key.pem" ] && return 0
  cb_log "Making a self-signed TLS certificate for 127.0.0.1 (openssl)"
  (umask 077; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
    -subj "/CN=ChatBlazor local fleet" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$data/tls/key.pem" -out "$data/tls/cert.pem" 2>/dev/null) || cb_die "openssl could not make a certificate"
}

# A long random secret in FILE (mode 600), made once.
ensure_key() {
  [ -s "$1" ] || (umask 077; head -c 32 /dev/urandom | base64 | tr '+/' 'xy' | tr -d '=' > "$1")
  chmod 600 "$1"
}

start_inference() {
  local log="$logs/inference.log" pid
  cb_log "Starting the inference host on 127.0.0.1:$inference_port (health and metrics on :$ops_port)"
  setsid dotnet "$inference_dll" serve --model "$model_name=$model_dir" --urls "http://127.0.0.1:$inference_port" \
    --ops-urls "http://127.0.0.1:$ops_port" --api-key-file "$data/inference-api.key" </dev/null >>"$log" 2>&1 &
  pid=$!
  echo "$pid" > "$run/inference.pid"
  wait_ready inference "$pid" "http://127.0.0.1:$ops_port/health" "$log"
}

# The settings every web instance shares: written once by `up`, read again by `restart`, never on a command line.
write_web_env() {
  local window
  window=$(grep -o '"max_position_embeddings": *[0-9]*' "$model_dir/config.json" | grep -o '[0-9]*$')
  # Quoted for `source`: a connection string holds semicolons.
  (umask 077; {
    printf '%s=%q\n' ConnectionStrings__Postgres "$ConnectionStrings__Postgres" Redis__Configuration "$Redis__Configuration" \
      App__PublicUrl "https://127.0.0.1:$port" ForwardedHeaders__KnownProxies__0 127.0.0.1 \
      Logging__UserIdKey "$(cat "$data/logging-userid.key")" Inference__InProcess false \
      Inference__Hosts__0__Url "http://127.0.0.1:$inference_port" Inference__Hosts__0__Models__0 "$model_name" \
      Inference__Hosts__0__ContextWindow "$window" Inference__Hosts__0__ApiKey "$(cat "$data/inference-api.key")" \
      ASPNETCORE_ENVIRONMENT Production ASPNETCORE_CONTENTROOT "$(dirname "$web_dll")"
    # The operator's settings, read as `docker --env-file` reads a file: KEY=VALUE taken literally, no quotes,
    # blank lines and # comments skipped.
    if [ -f "$run/settings.env" ]; then
      local line
      while IFS= read -r line || [ -n "$line" ]; do
        [[ $line =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || continue
        printf '%s=%q\n' "${line%%=*}" "${line#*=}"
      done < "$run/settings.env"
    fi
  } > "$run/web.env")
}

start_web() {
  local name=$1 web_port log="$logs/$1.log" pid
  web_port=$(web_port "$name")
  port_busy "$web_port" && cb_die "port $web_port ($name) is taken by another program; set CHATBLAZOR_CLUSTER_PORT to another port"
  cb_log "Starting $name on 127.0.0.1:$web_port"
  (
    set -a
    source "$run/web.env"
    set +a
    ASPNETCORE_URLS="http://127.0.0.1:$web_port" exec setsid dotnet "$web_dll"
  ) </dev/null >>"$log" 2>&1 &
  pid=$!
  echo "$pid" > "$run/$name.pid"
  wait_ready "$name" "$pid" "http://127.0.0.1:$web_port/health/ready" "$log"
}

start_nginx() {
  local conf="$data/nginx" temp="$data/nginx/temp" servers="" name
  mkdir -p "$conf" "$temp"
  for name in "${web_names[@]}"; do
    servers="${servers}server 127.0.0.1:$(web_port "$name") max_fails=1 fail_timeout=5s; "
  done
  CHATBLAZOR_LISTEN="127.0.0.1:$port" CHATBLAZOR_WEB_SERVERS="$servers" \
  CHATBLAZOR_TLS_CERT="$data/tls/cert.pem" CHATBLAZOR_TLS_KEY="$data/tls/key.pem" \
    envsubst '${CHATBLAZOR_LISTEN} ${CHATBLAZOR_WEB_SERVERS} ${CHATBLAZOR_TLS_CERT} ${CHATBLAZOR_TLS_KEY}' \
    < docker/nginx/chatblazor.conf.template > "$conf/chatblazor.conf"
  # As root, NGINX's workers run as www-data: their buffers go where that user may write.
  local user=""
  if [ "$(id -u)" = 0 ]; then
    user="user www-data;"
    chown www-data "$temp"
  fi
  cat > "$conf/nginx.conf" <<CONF
$user
worker_processes auto;
worker_rlimit_nofile 16384;
pid $run/nginx.pid;
error_log $logs/nginx-error.log warn;
events { worker_connections 4096; }
http {
  client_body_temp_path $temp/body;
  proxy_temp_path $temp/proxy;
  fastcgi_temp_path $temp/fastcgi;
  uwsgi_temp_path $temp/uwsgi;
  scgi_temp_path $temp/scgi;
  include $conf/chatblazor.conf;
  access_log $logs/nginx-access.log chatblazor;
}
CONF
  nginx -t -q -c "$conf/nginx.conf" -p "$conf" 2>>"$logs/nginx-error.log" || { tail -n 5 "$logs/nginx-error.log" >&2; cb_die "the NGINX configuration is refused; see $logs/nginx-error.log"; }
  port_busy "$port" && cb_die "port $port is taken by another program; set CHATBLAZOR_CLUSTER_PORT to a free port"
  cb_log "Starting NGINX on https://127.0.0.1:$port"
  nginx -c "$conf/nginx.conf" -p "$conf" || cb_die "NGINX did not start; see $logs/nginx-error.log"
  local deadline=$((SECONDS + 30))
  until curl -fsS -o /dev/null --max-time 5 --cacert "$data/tls/cert.pem" "https://127.0.0.1:$port/health/live"; do
    [ "$SECONDS" -lt "$deadline" ] || cb_die "NGINX did not answer on https://127.0.0.1:$port; see $logs/nginx-error.log"
    sleep 0.2
  done
}

# Starts what is not running, so `up` also brings back an instance that crashed or was killed. A start that fails
# stops what this `up` started and leaves the rest as it was.
up() {
  command -v dotnet >/dev/null || cb_die "the .NET SDK 10 is required (dotnet not found on PATH)"
  ensure_packages postgresql redis-server patchelf gcc nginx openssl curl gettext-base
  mkdir -p "$run" "$logs"
  started=()
  trap 'cb_log "Start failed; stopping what this start began"; stop_started' EXIT
  services_start cluster
  # What `down` must stop: the services any `up` of this fleet started (an earlier one's, or this one's).
  local pg=$CB_STARTED_PG redis=$CB_STARTED_REDIS
  if [ -f "$run/services" ]; then
    pg=${pg:-$(source "$run/services"; echo "$CB_STARTED_PG")}
    redis=${redis:-$(source "$run/services"; echo "$CB_STARTED_REDIS")}
  fi
  build_if_needed
  ensure_certificate
  ensure_key "$data/inference-api.key"
  ensure_key "$data/logging-userid.key"
  # Kept until `down`, so that `restart`, `admin` and a later `up` use the same settings.
  [ -z "${CHATBLAZOR_CLUSTER_ENV_FILE:-}" ] || (umask 077; cp "$CHATBLAZOR_CLUSTER_ENV_FILE" "$run/settings.env")
  write_web_env
  (set -a; source "$run/web.env"; dotnet "$web_dll" migrate) >>"$logs/migrate.log" 2>&1 || { tail -n 20 "$logs/migrate.log" >&2; cb_die "migrations failed; see $logs/migrate.log"; }
  alive "$(pid_of inference)" || { start_inference; started+=(inference); }
  local name
  for name in "${web_names[@]}"; do
    alive "$(pid_of "$name")" || { start_web "$name"; started+=("$name"); }
  done
  alive "$(pid_of nginx)" || { start_nginx; started+=(nginx); }
  printf 'CB_STARTED_PG=%q\nCB_STARTED_REDIS=%q\nCB_REDIS_SECRET=%q\n' "$pg" "$redis" "$CB_REDIS_SECRET" > "$run/services"
  trap - EXIT
  cb_log "The fleet serves https://127.0.0.1:$port (logs in $logs; scripts/cluster.sh down stops it)"
}

stop_started() {
  trap - EXIT
  local name
  for name in "${started[@]}"; do stop_pid "$(pid_of "$name")"; rm -f "$run/$name.pid"; done
  services_stop
}

down() {
  local pid name
  trap - EXIT
  if alive "$(pid_of nginx)"; then
    cb_log "Stopping NGINX"
    stop_pid "$(pid_of nginx)"
  fi
  for name in "${web_names[@]}" inference; do
    pid=$(pid_of "$name")
    if alive "$pid"; then
      cb_log "Stopping $name"
      stop_pid "$pid"
    fi
    rm -f "$run/$name.pid"
  done
  rm -f "$run/nginx.pid" "$run/settings.env"
  if [ -f "$run/services" ]; then
    source "$run/services"
    services_stop
    rm -f "$run/services"
  fi
}

status() {
  local name pid state
  line() { printf '%-10s %-10s %-8s %-26s %s\n' "$@"; }
  line ROLE NAME PID ADDRESS STATE
  pid=$(pid_of nginx)
  alive "$pid" && state=up || state=down
  line nginx nginx "${pid:--}" "https://127.0.0.1:$port" "$state"
  for name in "${web_names[@]}"; do
    pid=$(pid_of "$name")
    if ! alive "$pid"; then state=down
    elif http_ok "http://127.0.0.1:$(web_port "$name")/health/ready"; then state=ready
    else state="up, not ready"; fi
    line web "$name" "${pid:--}" "http://127.0.0.1:$(web_port "$name")" "$state"
  done
  pid=$(pid_of inference)
  if ! alive "$pid"; then state=down; elif http_ok "http://127.0.0.1:$ops_port/health"; then state=up; else state="not answering"; fi
  line inference inference "${pid:--}" "http://127.0.0.1:$inference_port" "$state"
  pid=$(head -n 1 "$(pg_data_dir cluster)/postmaster.pid" 2>/dev/null || true)
  alive "$pid" && state=up || state=down
  line postgres postgres "${pid:--}" "127.0.0.1:$CHATBLAZOR_CLUSTER_PG_PORT" "$state"
  pid=$(cat "$data/redis/redis.pid" 2>/dev/null || true)
  alive "$pid" && state=up || state=down
  line redis redis "${pid:--}" "127.0.0.1:$CHATBLAZOR_CLUSTER_REDIS_PORT" "$state"
}

# One web instance at a time: stopped with SIGTERM (it hands its running replies back and NGINX sends its browsers
# to the other instance), started again and ready before the next one goes.
restart() {
  [ -f "$run/web.env" ] && [ -f "$run/services" ] || cb_die "the fleet is not up (scripts/cluster.sh up)"
  build_if_needed
  local name
  for name in "${web_names[@]}"; do
    cb_log "Restarting $name"
    stop_pid "$(pid_of "$name")"
    start_web "$name"
  done
  cb_log "Both web instances restarted"
}

admin() {
  [ -f "$run/web.env" ] && [ -f "$run/services" ] || cb_die "the fleet is not up (scripts/cluster.sh up)"
  set -a
  source "$run/web.env"
  set +a
  dotnet "$web_dll" admin "$@"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  restart) restart ;;
  admin) shift; admin "$@" ;;
  *) printf 'usage: scripts/cluster.sh up|down|status|restart|admin ARGS...\n' >&2; exit 2 ;;
esac
