# Our Stripe emulator (ChatBlazor.StripeEmulator), for billing in test mode without Stripe: the "stripe-emulator"
# profile of docker/compose.yaml. Build from the repository root:
#   docker build -f docker/stripe-emulator.Dockerfile -t chatblazor-stripe-emulator .
# Serves on :12111, seeded with the test-mode catalog; settings under Emulator__ (SecretKey, WebhookUrl,
# WebhookSecret). Not for production: it keeps everything in memory.
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0.401
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0.12

FROM ${SDK_IMAGE} AS build
WORKDIR /src
COPY . .
RUN dotnet publish ChatBlazor.StripeEmulator/ChatBlazor.StripeEmulator.csproj -c Release -r linux-x64 \
      --self-contained false -p:UseAppHost=false --nologo -o /app

FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=build /app /app
COPY docker/http-probe.sh /usr/local/bin/http-probe.sh
USER 10001:10001
ENV HOME=/tmp \
    ASPNETCORE_HTTP_PORTS=12111 \
    Emulator__CatalogFile=/app/test-mode-catalog.json \
    DOTNET_NOLOGO=1
EXPOSE 12111
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["http-probe.sh", "12111", "/"]
ENTRYPOINT ["dotnet", "/app/ChatBlazor.StripeEmulator.dll"]
