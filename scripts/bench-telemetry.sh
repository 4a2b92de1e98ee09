#!/usr/bin/env bash
# What telemetry costs (tests/ChatBlazor.E2E/TelemetryOverheadBench.cs): /v1 requests per second and token-to-DOM
# latency with Telemetry:Enabled on and off, in turns. Printed and written to .data/bench/telemetry.json;
# docs/benchmarks.md records them with the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
services_start test
trap services_stop EXIT
export CHATBLAZOR_CHROMIUM="${CHATBLAZOR_CHROMIUM:-/usr/bin/chromium}"
rm -f .data/bench/telemetry.json
dotnet build tests/ChatBlazor.E2E -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet test tests/ChatBlazor.E2E -c Release --no-build --nologo --filter "FullyQualifiedName~TelemetryOverheadBench" --logger "console;verbosity=detailed" | grep -E "telemetry|Passed|Failed"
cat .data/bench/telemetry.json
