# The web app (pages, /v1, reply workers, operator commands). Build from the repository root:
#   docker build -f docker/web.Dockerfile -t chatblazor-web .
# Run: serves http://0.0.0.0:8080 as uid 10001, with a read-only root filesystem and a writable /tmp.
# `migrate` as the command applies the migrations and exits (the one-shot job of docker/compose.yaml); so do the other
# operator commands (create-user, ...). Its settings are in the top-level README (Configuration); docker/compose.yaml
# shows those of a fleet.
#
# The base images are arguments so that a build without access to mcr.microsoft.com can pass its own (see
# scripts/container-check.sh). The build and runtime images must be the same distribution release: the TorchSharp
# patch below is decided by the build image's libstdc++ and loaded with the runtime image's.
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0.401
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0.12

FROM ${SDK_IMAGE} AS build
# build/TorchSharpNative.targets patches libLibTorchSharp.so with patchelf and a small C shim where the image's
# libstdc++ lacks GLIBCXX_3.4.32 (Debian 12); a base image that already has both tools installs nothing.
RUN if ! command -v patchelf >/dev/null || ! command -v gcc >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends patchelf gcc libc6-dev && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /src
COPY . .
# -r linux-x64 copies only that platform's natives (build/HostNativeAssets.targets leaves a publish with a RID alone).
# No apphost: `dotnet ChatBlazor.Web.dll` is the entry point.
RUN dotnet publish ChatBlazor.Web/ChatBlazor.Web.csproj -c Release -r linux-x64 --self-contained false \
      -p:UseAppHost=false --nologo -o /app
# Parts of the packages that nothing here loads (measured with readelf: libLibTorchSharp.so needs only libtorch,
# libtorch_cpu, libc10 and LibTorch's libgomp; onnxruntime.dll is a Windows library the MiniLM package drops in):
# about 90 MB less.
RUN cd /app && rm -f onnxruntime.dll libtorch_python.so libjitbackend_test.so libtorchbind_test.so \
      libbackend_with_compiler.so libnnapi_backend.so libaoti_custom_ops.so

FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=build /app /app
COPY docker/http-probe.sh /usr/local/bin/http-probe.sh
# A numeric user needs no entry in /etc/passwd (and orchestrators can check runAsNonRoot against it). HOME points
# at /tmp, the one writable place: the app keeps its Data Protection keys in PostgreSQL and writes no file of its own.
USER 10001:10001
ENV HOME=/tmp \
    ASPNETCORE_HTTP_PORTS=8080 \
    ASPNETCORE_CONTENTROOT=/app \
    DOTNET_NOLOGO=1
EXPOSE 8080
# Liveness only: readiness (PostgreSQL, Redis, models) is /health/ready, which the proxy and orchestrator ask.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["http-probe.sh", "8080", "/health/live"]
ENTRYPOINT ["dotnet", "/app/ChatBlazor.Web.dll"]
