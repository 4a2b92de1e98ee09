#!/usr/bin/env bash
# The API's benchmarks (tests/ChatBlazor.Web.Tests/Api/ApiBench.cs): rate-limiter decisions per second and latency
# against the local Redis, and /v1's overhead over a direct engine call. Printed and written to .data/bench/api.json;
# docs/benchmarks.md records them with the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
services_start test
trap services_stop EXIT
rm -f .data/bench/api.json
dotnet build tests/ChatBlazor.Web.Tests -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet test tests/ChatBlazor.Web.Tests -c Release --no-build --nologo --filter "Category=Bench" --logger "console;verbosity=detailed" | grep -E "limiter_|api_|engine_|Passed|Failed"
cat .data/bench/api.json
