#!/usr/bin/env bash
# The chat page's benchmarks in Chromium (tests/ChatBlazor.E2E/ChatUiBench.cs): token-to-DOM latency in a new and a
# 200-message conversation, and server memory per streaming circuit with 50 concurrent chats. Results are printed
# and written to .data/bench/chat-ui.json; docs/benchmarks.md records them with the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
services_start test
trap services_stop EXIT
export CHATBLAZOR_CHROMIUM="${CHATBLAZOR_CHROMIUM:-/usr/bin/chromium}"
rm -f .data/bench/chat-ui.json
dotnet build tests/ChatBlazor.E2E -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet test tests/ChatBlazor.E2E -c Release --no-build --nologo --filter "Category=Bench" --logger "console;verbosity=detailed" | grep -E "token_to_dom|memory per|Passed|Failed"
cat .data/bench/chat-ui.json
