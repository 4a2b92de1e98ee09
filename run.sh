#!/usr/bin/env bash
# Serves ChatBlazor at http://127.0.0.1:5000 (CHATBLAZOR_URLS overrides), with its own PostgreSQL and Redis.
#   ./run.sh                 install what is missing, start services, migrate, serve (Ctrl-C stops)
#   ./run.sh admin ARGS...   run an operator command, e.g. ./run.sh admin create-user --email E --password P --role Admin
# Billing: with Stripe__SecretKey (and Stripe__WebhookSecret) in the environment it talks to Stripe; without, it starts
# the Stripe emulator on loopback and the app bills in test mode against it (scripts/stripe-emulator.sh).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/services.sh
source scripts/stripe-emulator.sh

command -v dotnet >/dev/null || cb_die "the .NET SDK 10 is required (dotnet not found on PATH)"
ensure_packages postgresql redis-server patchelf gcc

cleanup() {
  stripe_emulator_stop
  services_stop
}
# The trap first: services_start exits (cb_die) when a service cannot start, and must not leave the other running.
trap cleanup EXIT
services_start run

# The key of the user id hashes in logs and exported analytics: generated once, kept with the other secrets of
# .data/run (a new key would make today's hashes unjoinable with yesterday's).
if [ -z "${Logging__UserIdKey:-}" ]; then
  new_secret .data/run/logging-userid.key
  export Logging__UserIdKey="$(cat .data/run/logging-userid.key)"
fi

app=ChatBlazor.Web/bin/Release/net10.0/ChatBlazor.Web.dll
# Rebuild only when a source file changed since the last build, so a second start takes seconds.
if [ ! -f "$app" ] || [ -n "$(find ChatBlazor.* Migrations Directory.*.props Directory.Build.targets build -newer "$app" -type f \
      -not -path '*/bin/*' -not -path '*/obj/*' -not -path 'ChatBlazor.StripeEmulator/*' -print -quit 2>/dev/null)" ]; then
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

# Operator commands above need no billing. Only the environment decides: a key in an appsettings file would be
# overridden by the emulator's settings, so it is refused rather than silently not used.
key_file=$(grep -lsE '"SecretKey"[[:space:]]*:[[:space:]]*"[^"]' "$(dirname "$app")"/appsettings*.json | head -n 1 || true)
if [ -z "${Stripe__SecretKey:-}" ] && [ -n "$key_file" ]; then
  cb_die "Stripe:SecretKey is set in $key_file; ./run.sh reads it from the environment only: export Stripe__SecretKey (and Stripe__WebhookSecret) instead"
fi
if [ -n "${Stripe__SecretKey:-}" ]; then
  cb_log "Billing talks to Stripe (Stripe__SecretKey is set); nothing is emulated"
else
  # The emulator posts webhooks to the app's first address; a wildcard host is reached on loopback.
  stripe_emulator_start "$(printf '%s' "${urls%%;*}" | sed -E 's#://(\*|\+|0\.0\.0\.0|\[::\])(:|/|$)#://127.0.0.1\2#')"
  cb_log "Billing in test mode against the Stripe emulator at $Stripe__ApiBase (card 4242 4242 4242 4242 pays)"
fi

export ASPNETCORE_URLS="$urls"
cb_log "Serving on $ASPNETCORE_URLS (Ctrl-C stops)"
# Not exec: when the app exits, the trap stops the services this script started.
dotnet "$app"
