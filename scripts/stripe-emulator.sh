# Starts and stops the Stripe emulator (ChatBlazor.StripeEmulator) that ./run.sh uses when no real Stripe key is given.
# Source it after scripts/services.sh, then: stripe_emulator_start APP_URL, stripe_emulator_stop.
# It listens on 127.0.0.1:${CHATBLAZOR_STRIPE_EMULATOR_PORT:-12111}, seeds ChatBlazor.StripeEmulator/test-mode-catalog.json,
# sends its webhooks to APP_URL/stripe/webhook, and logs to .data/run/stripe-emulator.log. Tests start their own
# emulator in-process; ./test.sh never starts this one.

CB_EMULATOR_PID=""
CB_EMULATOR_KEY=sk_test_emulator
CB_EMULATOR_CATALOG="$CB_ROOT/ChatBlazor.StripeEmulator/test-mode-catalog.json"

# Builds (Release, only when a source file changed since the last build) and starts the emulator, waits until it
# answers, and exports the Stripe settings that point the app at it.
stripe_emulator_start() {
  local app_url=$1 port=${CHATBLAZOR_STRIPE_EMULATOR_PORT:-12111} secret_file="$CB_ROOT/.data/run/stripe-webhook.secret"
  local dll="$CB_ROOT/ChatBlazor.StripeEmulator/bin/Release/net10.0/ChatBlazor.StripeEmulator.dll"
  local log="$CB_ROOT/.data/run/stripe-emulator.log" url secret
  mkdir -p "$CB_ROOT/.data/run"
  if [ ! -f "$dll" ] || [ -n "$(cd "$CB_ROOT" && find ChatBlazor.StripeEmulator Directory.*.props Directory.Build.targets -newer "$dll" -type f \
        -not -path '*/bin/*' -not -path '*/obj/*' -print -quit 2>/dev/null)" ]; then
    cb_log "Building the Stripe emulator (Release)"
    dotnet build "$CB_ROOT/ChatBlazor.StripeEmulator/ChatBlazor.StripeEmulator.csproj" -c Release --nologo -v quiet -clp:ErrorsOnly
    touch "$dll"
  fi

  # The secret the app verifies webhooks with and the emulator signs them with: the one given, or one generated once.
  if [ -n "${Stripe__WebhookSecret:-}" ]; then
    secret=$Stripe__WebhookSecret
  else
    [ -f "$secret_file" ] || (umask 077; printf 'whsec_%s\n' "$(head -c 24 /dev/urandom | base64 | tr '+/' 'xy')" > "$secret_file")
    chmod 600 "$secret_file"
    secret=$(cat "$secret_file")
  fi

  port_busy "$port" && cb_die "port $port is taken by another program; set CHATBLAZOR_STRIPE_EMULATOR_PORT to a free port"
  url="http://127.0.0.1:$port"
  cb_log "Starting the Stripe emulator on $url (log: $log)"
  # The webhook secret travels in the environment of the emulator alone, never on its command line. The app's content
  # root and addresses are not the emulator's.
  env -u ASPNETCORE_CONTENTROOT -u ASPNETCORE_URLS Emulator__WebhookSecret="$secret" ASPNETCORE_ENVIRONMENT=Production \
    dotnet "$dll" --urls="$url" \
    --Emulator:SecretKey="$CB_EMULATOR_KEY" --Emulator:CatalogFile="$CB_EMULATOR_CATALOG" \
    --Emulator:WebhookUrl="$app_url/stripe/webhook" >"$log" 2>&1 &
  CB_EMULATOR_PID=$!
  # Bounded: a first start takes a second or two; a bad catalog or a crash ends the process, which is seen at once.
  local tries=0
  until curl -fsS -o /dev/null -u "$CB_EMULATOR_KEY:" "$url/v1/prices/price_chatblazor_pro_monthly" 2>/dev/null; do
    if ! kill -0 "$CB_EMULATOR_PID" 2>/dev/null; then
      CB_EMULATOR_PID=""
      tail -n 5 "$log" >&2
      cb_die "the Stripe emulator exited at start; see $log"
    fi
    tries=$((tries + 1))
    [ "$tries" -le 120 ] || cb_die "the Stripe emulator did not answer on $url within 30 s; see $log"
    sleep 0.25
  done

  # The ids of ChatBlazor.StripeEmulator/test-mode-catalog.json: a change there must be made here too.
  export Stripe__SecretKey="$CB_EMULATOR_KEY"
  export Stripe__ApiBase="$url"
  export Stripe__WebhookSecret="$secret"
  export Plans__Pro__StripePriceId=price_chatblazor_pro_monthly
  export Plans__Pro__StripeMeteredPriceId=price_chatblazor_tokens
  export Plans__Team__StripePriceId=price_chatblazor_team_monthly
  export Plans__Team__StripeMeteredPriceId=price_chatblazor_tokens
  # Small on purpose, so that a few dozen replies in test mode go beyond them and the metered price shows on invoices.
  export Plans__Pro__IncludedTokens="${Plans__Pro__IncludedTokens:-10000}"
  export Plans__Team__IncludedTokens="${Plans__Team__IncludedTokens:-100000}"
}

# Stops the emulator this shell started (SIGTERM: a background job ignores SIGINT), waiting a little for it to end.
stripe_emulator_stop() {
  [ -n "$CB_EMULATOR_PID" ] || return 0
  cb_log "Stopping the Stripe emulator"
  kill -TERM "$CB_EMULATOR_PID" 2>/dev/null || true
  for _ in $(seq 40); do
    kill -0 "$CB_EMULATOR_PID" 2>/dev/null || break
    sleep 0.25
  done
  kill -0 "$CB_EMULATOR_PID" 2>/dev/null && kill -KILL "$CB_EMULATOR_PID" 2>/dev/null
  wait "$CB_EMULATOR_PID" 2>/dev/null || true
  CB_EMULATOR_PID=""
}
