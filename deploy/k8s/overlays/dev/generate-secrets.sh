#!/usr/bin/env bash
# Writes the development secrets that kustomization.yaml reads into secrets/ (git ignores it): random passwords
# for the dev PostgreSQL and Redis and the connection strings that use them, the key of user id hashes in logs,
# and the inference hosts' API key. Refuses to overwrite: the databases keep the passwords of their first start.
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)/secrets"
if [ -e "$dir" ]; then
  echo "$dir exists; remove it to make new secrets (the dev databases' volumes keep the old passwords)" >&2
  exit 1
fi
umask 077
mkdir -p "$dir"
random() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
postgres=$(random)
redis=$(random)
# No trailing newline: each file's bytes become the value.
printf '%s' "$postgres" > "$dir/postgres-password"
printf '%s' "$redis" > "$dir/redis-password"
printf 'Host=postgres;Port=5432;Database=chatblazor;Username=chatblazor;Password=%s' "$postgres" > "$dir/postgres-connection"
printf 'redis:6379,password=%s' "$redis" > "$dir/redis-configuration"
printf '%s' "$(random)" > "$dir/logging-userid-key"
printf '%s' "$(random)" > "$dir/inference-api-key"
echo "wrote $dir"
