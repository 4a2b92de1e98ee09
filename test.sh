#!/usr/bin/env bash
# Builds Release and runs every test project against real PostgreSQL, Redis and Chromium.
# Ends with one line "N passed, N failed[, N skipped]"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/services.sh

command -v dotnet >/dev/null || cb_die "the .NET SDK 10 is required (dotnet not found on PATH)"
ensure_packages postgresql redis-server patchelf gcc chromium fonts-liberation prometheus nginx openssl curl gettext-base
command -v npm >/dev/null || ensure_packages nodejs npm

cleanup() {
  services_stop
  # Build servers (MSBuild nodes, Roslyn, Razor) would outlive the run.
  dotnet build-server shutdown >/dev/null 2>&1 || true
}
# The trap first: services_start exits (cb_die) when a service cannot start, and must not leave the other running.
trap cleanup EXIT
services_start test

cb_log "Building (Release)"
dotnet build ChatBlazor.sln -c Release --nologo -v quiet -clp:ErrorsOnly

# npm packages the tests run, exactly as locked, installed only when a lock changed: the official openai package for
# the API tests, and kubernetes-models and yaml for the offline checks of deploy/ and docker/.
for npm_dir in tests/openai-sdk tests/deploy-validate; do
  if [ ! -f "$npm_dir/node_modules/.package-lock.json" ] || ! cmp -s "$npm_dir/package-lock.json" "$npm_dir/.installed-lock"; then
    cb_log "Installing $npm_dir (npm ci)"
    (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json .installed-lock)
  fi
done

results=.data/test-results
rm -rf "$results"
export CHATBLAZOR_CHROMIUM="${CHATBLAZOR_CHROMIUM:-/usr/bin/chromium}"
cb_log "Testing"
status=0
# Category=Bench are measurements (scripts/bench-ui.sh), not tests. Category=Containers builds and runs the images
# with podman: minutes of two busy cores, so it runs alone, after the rest.
dotnet test ChatBlazor.sln -c Release --no-build --nologo --logger "trx" --logger "console;verbosity=minimal" \
  --filter "Category!=Bench&Category!=Containers" --results-directory "$results" || status=$?
cb_log "Testing the container images (podman)"
dotnet test tests/ChatBlazor.Deploy.Tests -c Release --no-build --nologo --logger "trx;LogFileName=containers.trx" \
  --logger "console;verbosity=minimal" --filter "Category=Containers" --results-directory "$results" || status=$?

# One closing line summed over every project's TRX report.
passed=0 failed=0 total=0 executed=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { printf '%s' "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  total=$((total + $(get total))); executed=$((executed + $(get executed)))
  passed=$((passed + $(get passed))); failed=$((failed + $(get failed)))
done
skipped=$((total - executed))
[ "$total" -gt 0 ] || { echo "no test results found in $results"; status=1; }
[ "$failed" -eq 0 ] || status=1
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
cleanup
trap - EXIT
echo "$line"
exit "$status"
