#!/usr/bin/env bash
# How many concurrent streaming chats a two-instance fleet holds on this machine without losing a message, and where
# the limit comes from (tests/ChatBlazor.E2E/Load/FleetLoadBench.cs): browserless Blazor circuits, no Chromium.
# Without CHATBLAZOR_BENCH_URL it starts its own fleet (two web processes, one database and Redis, a paced scripted
# model host); with it, it loads that installation, e.g. the NGINX fleet:
#   CHATBLAZOR_BENCH_URL=https://127.0.0.1:8443 [CHATBLAZOR_BENCH_USERS=users.txt] [CHATBLAZOR_BENCH_POSTGRES=...] scripts/bench-fleet.sh
# (users.txt: "email password" lines; without it each chat registers an account, so registration must be open and
# the plan's per-user and sign-in limits must allow one chat per user sending back to back.)
# Steps: CHATBLAZOR_BENCH_STEPS (10,20,40,80,160), CHATBLAZOR_BENCH_STEP_SECONDS (60), CHATBLAZOR_BENCH_FIRST_TOKEN_MS
# (2000); its own fleet's Replies:Workers per instance: CHATBLAZOR_BENCH_WORKERS (the app's default). Results are
# printed and written to .data/bench/fleet-load.json; docs/benchmarks.md records them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
services_start test
trap services_stop EXIT
rm -f .data/bench/fleet-load.json
dotnet build tests/ChatBlazor.E2E -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet test tests/ChatBlazor.E2E -c Release --no-build --nologo --filter "FullyQualifiedName~FleetLoadBench" --logger "console;verbosity=detailed" | grep -E "fleet-load:|Passed|Failed"
cat .data/bench/fleet-load.json
