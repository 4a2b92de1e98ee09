#!/usr/bin/env bash
# Serves ChatBlazor at http://127.0.0.1:5000 (CHATBLAZOR_URLS overrides), with its own PostgreSQL and Redis.
#   ./run.sh                 install what is missing, start services, migrate, serve (Ctrl-C stops)
#   ./run.sh admin ARGS...   run an operator command, e.g. ./run.sh admin create-user --email E --password P --role Admin
set -euo pipefail
cd "$(dirname "$0")"
source scripts/services.sh

command -v dotnet >/dev/null || cb_die "the .NET SDK 10 is required (dotnet not found on PATH)"
ensure_packages postgresql redis-server patchelf gcc

# The trap first: services_start exits (cb_die) when a service cannot start, and must not leave the other running.
trap services_stop EXIT
services_start run

app=ChatBlazor.Web/bin/Release/net10.0/ChatBlazor.Web.dll
# Rebuild only when a source file changed since the last build, so a second start takes seconds.
if [ ! -f "$app" ] || [ -n "$(find ChatBlazor.* Migrations Directory.*.props Directory.Build.targets build -newer "$app" -type f \
      -not -path '*/bin/*' -not -path '*/obj/*' -print -quit 2>/dev/null)" ]; then
  cb_log "Building (Release)"
  dotnet build ChatBlazor.Web/ChatBlazor.Web.csproj -c Release --nologo -v quiet -clp:ErrorsOnly
  touch "$app"
fi

urls="${CHATBLAZOR_URLS:-http://127.0.0.1:5000}"
# Links in account emails and from `admin reset-password --link` are built from App:PublicUrl, never from a
# request's Host header; by default it is the first address served here. Behind a proxy, set it to the public URL.
export App__PublicUrl="${App__PublicUrl:-${urls%%;*}}"
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Production}"
export ASPNETCORE_CONTENTROOT="$PWD/$(dirname "$app")"
dotnet "$app" migrate

if [ "${1:-}" = admin ]; then
  dotnet "$app" "$@"
  exit $?
fi

export ASPNETCORE_URLS="$urls"
cb_log "Serving on $ASPNETCORE_URLS (Ctrl-C stops)"
# Not exec: when the app exits, the trap stops the services this script started.
dotnet "$app"
