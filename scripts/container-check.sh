#!/usr/bin/env bash
# Builds docker/web.Dockerfile and docker/inference.Dockerfile with podman and runs them as docker/compose.yaml does
# (uid 10001, read-only root filesystem, writable /tmp only), against a PostgreSQL and Redis of this machine:
#   web:        `migrate`, then serve until /health/ready answers 200 and the image's HEALTHCHECK passes;
#   inference:  serve with its key from a mounted file: /v1/models refused without the key and answered with it,
#               /health on the ops port, the image's HEALTHCHECK.
# Prints how long each step took. Usage: scripts/container-check.sh   (as root, on Debian 12)
#
# No image registry is reachable from this project's machines, so the base images are made here and passed as the
# Dockerfiles' SDK_IMAGE / RUNTIME_IMAGE: Debian 12 from the Debian mirror (debootstrap), plus this machine's own .NET
# runtime (and SDK, patchelf, gcc for the build image). They are kept in podman's storage and made again only when
# missing (CHATBLAZOR_CONTAINER_NEW_BASES=1 remakes them). The builds use this machine's network and NuGet cache
# (mounted at the build's own cache): restore still asks the package source (packages resolved to a version other
# than the one asked for, NU1603, and the audit need it), but downloads nothing the cache has. The build steps see
# this machine's CA bundle (a mount, not a layer), for the TLS of package sources reached through a proxy.
#
# Podman on this machine kind needs, and gets from a containers.conf of this script's own: runc (crun refuses the
# hybrid cgroup layout), and open-file and process limits at or below the VM's (it may not raise them).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/services.sh"

work="$CB_ROOT/.data/container"
web_image=localhost/chatblazor-web:check
inference_image=localhost/chatblazor-inference:check
web_port=${CHATBLAZOR_CONTAINER_WEB_PORT:-58080}
inference_port=${CHATBLAZOR_CONTAINER_INFERENCE_PORT:-58000}
ops_port=${CHATBLAZOR_CONTAINER_OPS_PORT:-59000}
# Containers reach this machine's loopback (where the services listen) at 10.0.2.2 through slirp4netns.
network=slirp4netns:allow_host_loopback=true

started=$SECONDS
step_started=$SECONDS
step() {
  cb_log "$* (previous step: $((SECONDS - step_started)) s)"
  step_started=$SECONDS
}

ensure_packages podman runc slirp4netns debootstrap postgresql redis-server curl patchelf gcc
mkdir -p "$work"
export CONTAINERS_CONF="$work/containers.conf"
cat > "$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = ["nofile=16384:16384", "nproc=32768:32768"]
[engine]
runtime = "runc"
EOF

dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
runtime_version=$(ls "$dotnet_root/shared/Microsoft.AspNetCore.App" | sort -V | tail -n 1)
sdk_version=$(cd "$CB_ROOT" && dotnet --version)
debian_base=localhost/chatblazor-base/debian:bookworm
runtime_base=localhost/chatblazor-base/aspnet:$runtime_version
sdk_base=localhost/chatblazor-base/sdk:$sdk_version

have_image() { [ "${CHATBLAZOR_CONTAINER_NEW_BASES:-}" != 1 ] && podman image exists "$1"; }

if ! have_image "$debian_base"; then
  step "Making $debian_base (debootstrap from the Debian mirror)"
  rm -rf "$work/rootfs"
  # What the .NET runtime needs beyond a minimal Debian: ICU, OpenSSL, zlib, the C++ runtime.
  debootstrap --variant=minbase --include=ca-certificates,libicu72,libssl3,zlib1g,libstdc++6 \
    bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
    || { tail -n 5 "$work/debootstrap.log" >&2; cb_die "debootstrap failed; see $work/debootstrap.log"; }
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  tar -C "$work/rootfs" -c . | podman import -q - "$debian_base" >/dev/null
  rm -rf "$work/rootfs"
fi

# The dotnet folder is the build context of both: only what each Containerfile copies is read.
if ! have_image "$runtime_base"; then
  step "Making $runtime_base (this machine's .NET runtime)"
  podman build -q --network host -t "$runtime_base" -f - "$dotnet_root" >/dev/null <<EOF
FROM $debian_base
COPY dotnet /usr/share/dotnet/dotnet
COPY host /usr/share/dotnet/host
COPY shared /usr/share/dotnet/shared
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
EOF
fi
if ! have_image "$sdk_base"; then
  step "Making $sdk_base (this machine's .NET SDK, patchelf and gcc from the Debian mirror)"
  podman build -q --network host -t "$sdk_base" -f - "$dotnet_root" >/dev/null <<EOF
FROM $runtime_base
RUN apt-get update && apt-get install -y --no-install-recommends patchelf gcc libc6-dev && rm -rf /var/lib/apt/lists/*
COPY sdk /usr/share/dotnet/sdk
COPY packs /usr/share/dotnet/packs
COPY sdk-manifests /usr/share/dotnet/sdk-manifests
COPY templates /usr/share/dotnet/templates
# The minimal Debian has no /usr/lib/ssl/cert.pem: name the bundle (the one mounted during builds) for .NET. Package
# signatures are checked without asking revocation servers, which are not reachable from here.
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 \
    DOTNET_CLI_WORKLOAD_UPDATE_NOTIFY_DISABLE=1 SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    NUGET_CERT_REVOCATION_MODE=offline
EOF
fi

build() {
  local image=$1 dockerfile=$2
  step "Building $image from $dockerfile"
  # Docker's image format: podman's default (OCI) has no HEALTHCHECK and drops it.
  podman build --format docker --network host -v "$HOME/.nuget/packages:/root/.nuget/packages" \
    -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
    --build-arg SDK_IMAGE="$sdk_base" --build-arg RUNTIME_IMAGE="$runtime_base" \
    -f "$CB_ROOT/$dockerfile" -t "$image" "$CB_ROOT" >"$work/build-$(basename "$dockerfile" .Dockerfile).log" 2>&1 \
    || { tail -n 20 "$work/build-$(basename "$dockerfile" .Dockerfile).log" >&2; cb_die "$dockerfile did not build; see $work"; }
  cb_log "$image: $(podman image inspect "$image" --format '{{.Size}}' | awk '{ printf "%.0f MB", $1 / 1e6 }')"
}
dangling_before=$(podman images -q --filter dangling=true | sort)
build "$web_image" docker/web.Dockerfile
build "$inference_image" docker/inference.Dockerfile
# The build stages' images (2.5 to 3.3 GB each) and the previous check's images, untagged by this one's; images that
# were dangling before this run are left alone.
comm -13 <(echo "$dangling_before") <(podman images -q --filter dangling=true | sort) | xargs -r podman rmi -f >/dev/null 2>&1 || true

containers=()
cleanup() {
  local status=$?
  for c in "${containers[@]}"; do
    [ "$status" = 0 ] || { echo "--- logs of $c" >&2; podman logs --tail 30 "$c" >&2 || true; }
    podman rm -f -t 5 "$c" >/dev/null 2>&1 || true
  done
  services_stop
}
trap cleanup EXIT

step "Starting PostgreSQL and Redis"
# A profile of its own, so that neither ./run.sh's nor ./test.sh's services are used or stopped.
unset ConnectionStrings__Postgres Redis__Configuration # ./test.sh's, when the test suite runs this check
export CHATBLAZOR_PG_PORT=${CHATBLAZOR_CONTAINER_PG_PORT:-55434}
export CHATBLAZOR_REDIS_PORT=${CHATBLAZOR_CONTAINER_REDIS_PORT:-56381}
services_start container
export ConnectionStrings__Postgres=${ConnectionStrings__Postgres//127.0.0.1/10.0.2.2}
export Redis__Configuration=${Redis__Configuration//127.0.0.1/10.0.2.2}
export Logging__UserIdKey
Logging__UserIdKey=$(head -c 24 /dev/urandom | base64)
export App__PublicUrl=https://chat.example.test

# The settings travel by name (-e NAME): their values, passwords included, stay off the command line.
web_run=(podman run --read-only --tmpfs /tmp --network "$network"
  -e ConnectionStrings__Postgres -e Redis__Configuration -e Logging__UserIdKey -e App__PublicUrl)

step "Running the web image's migrate"
"${web_run[@]}" --rm "$web_image" migrate >"$work/migrate.log" 2>&1 \
  || { tail -n 20 "$work/migrate.log" >&2; cb_die "migrate failed in the container; see $work/migrate.log"; }

wait_for() {
  local what=$1 url=$2 deadline=$((SECONDS + 180))
  shift 2
  until curl -fsS -o /dev/null "$@" "$url" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || cb_die "$what did not answer 200 on $url within 180 s"
    sleep 1
  done
}

# Passes when the container's own HEALTHCHECK (http-probe.sh inside the image) reports healthy.
healthcheck_passes() {
  podman healthcheck run "$1" >/dev/null || cb_die "the HEALTHCHECK of $1 failed"
}

step "Serving the web image"
containers+=(cb-check-web)
podman rm -f cb-check-web >/dev/null 2>&1 || true
"${web_run[@]}" -d --name cb-check-web -p "127.0.0.1:$web_port:8080" "$web_image" >/dev/null
wait_for "the web container" "http://127.0.0.1:$web_port/health/ready"
healthcheck_passes cb-check-web
[ "$(podman exec cb-check-web id -u)" = 10001 ] || cb_die "the web container does not run as uid 10001"

step "Serving the inference image"
key_file="$work/inference-api-key"
new_secret "$key_file"
chmod 644 "$key_file" # read by uid 10001 in the container; the folder is private to root
containers+=(cb-check-inference)
podman rm -f cb-check-inference >/dev/null 2>&1 || true
podman run -d --name cb-check-inference --read-only --tmpfs /tmp --network "$network" \
  -v "$key_file:/run/secrets/inference-api-key:ro" \
  -p "127.0.0.1:$inference_port:8000" -p "127.0.0.1:$ops_port:9000" "$inference_image" >/dev/null
wait_for "the inference ops port" "http://127.0.0.1:$ops_port/health"
healthcheck_passes cb-check-inference
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$inference_port/v1/models")
[ "$code" = 401 ] || cb_die "/v1/models without the key answered $code, not 401"
curl -fsS -o /dev/null -H "Authorization: Bearer $(cat "$key_file")" "http://127.0.0.1:$inference_port/v1/models" \
  || cb_die "/v1/models with the key was refused"

step "Done"
cb_log "container check passed in $((SECONDS - started)) s"
