# The standalone inference host (`ChatBlazor.Inference serve`): the OpenAI-compatible engine a GPU box runs.
# Build from the repository root:
#   docker build -f docker/inference.Dockerfile -t chatblazor-inference .                        # CPU (LibTorch CPU)
#   docker build -f docker/inference.Dockerfile --build-arg TORCH_BACKEND=cuda -t chatblazor-inference:cuda .
# The CUDA variant needs the TorchSharp-cuda-linux packages from NuGet (not served by every mirror). Those packages
# carry LibTorch's CUDA libraries (CUDA runtime, cuBLAS, cuDNN) into the published folder, and the NVIDIA container
# toolkit (`--gpus all`) brings the host's driver, so the same runtime image serves both variants; RUNTIME_IMAGE may
# still name another image with the ASP.NET runtime (one with CUDA's own libraries, say).
#
# Run: /v1 and /status on :8000 behind `Authorization: Bearer <key>`, the key read from the file
# /run/secrets/inference-api-key; /health and /metrics on :9000 without the key (probes, Prometheus). uid 10001,
# read-only root filesystem, writable /tmp. chatblazor-mini is baked in at /models/chatblazor-mini; other models are
# mounted (read-only) under /models and named by replacing the command, e.g.
#   serve --model llama=/models/llama --urls http://0.0.0.0:8000 --ops-urls http://0.0.0.0:9000 \
#         --api-key-file /run/secrets/inference-api-key
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0.401
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0.12
ARG TORCH_BACKEND=cpu

FROM ${SDK_IMAGE} AS build
ARG TORCH_BACKEND
# See docker/web.Dockerfile: patchelf and gcc make TorchSharp's native library load on an older libstdc++.
RUN if ! command -v patchelf >/dev/null || ! command -v gcc >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends patchelf gcc libc6-dev && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /src
COPY . .
RUN dotnet publish ChatBlazor.Inference/ChatBlazor.Inference.csproj -c Release -r linux-x64 --self-contained false \
      -p:UseAppHost=false -p:TorchBackend=${TORCH_BACKEND} --nologo -o /app
# What nothing here loads (see docker/web.Dockerfile); the names are LibTorch's, CPU and CUDA builds alike.
RUN cd /app && rm -f onnxruntime.dll libtorch_python.so libjitbackend_test.so libtorchbind_test.so \
      libbackend_with_compiler.so libnnapi_backend.so libaoti_custom_ops.so
RUN mkdir -p /models && cp -r models/chatblazor-mini /models/ && rm -f /models/chatblazor-mini/*.md /models/chatblazor-mini/eval*

FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=build /app /app
COPY --from=build /models /models
COPY docker/http-probe.sh /usr/local/bin/http-probe.sh
USER 10001:10001
# The NVIDIA container toolkit reads these: which GPUs, and that only the compute libraries are wanted. Without the
# toolkit (the CPU variant) nothing reads them.
ENV HOME=/tmp \
    DOTNET_NOLOGO=1 \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
EXPOSE 8000 9000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["http-probe.sh", "9000", "/health"]
ENTRYPOINT ["dotnet", "/app/ChatBlazor.Inference.dll"]
CMD ["serve", "--model", "chatblazor-mini=/models/chatblazor-mini", \
     "--urls", "http://0.0.0.0:8000", "--ops-urls", "http://0.0.0.0:9000", \
     "--api-key-file", "/run/secrets/inference-api-key"]
