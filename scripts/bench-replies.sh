#!/usr/bin/env bash
# The reply bus's benchmarks (tests/ChatBlazor.Core.Tests/Replies/ReplyBusBench.cs): jobs per second through the Redis
# Stream alone, reply jobs end to end with two workers and their PostgreSQL writes, and an event's way from a worker's
# publish to a follower, and from send to the first word on a following page. Results are printed and written to .data/bench/replies.json; docs/benchmarks.md records them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
trap services_stop EXIT
services_start test
rm -f .data/bench/replies.json
dotnet build tests/ChatBlazor.Core.Tests -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet test tests/ChatBlazor.Core.Tests -c Release --no-build --nologo --filter "Category=Bench" --logger "console;verbosity=detailed" | grep -E "queue alone|end to end|follower|send →|Passed|Failed"
cat .data/bench/replies.json
