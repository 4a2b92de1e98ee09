#!/usr/bin/env bash
# Makes TorchSharp's native shim load on a libstdc++ older than GLIBCXX_3.4.32 (Debian 12 has 3.4.30).
#
# libLibTorchSharp.so (TorchSharp 0.107, built with GCC 13) asks libstdc++ for GLIBCXX_3.4.32 for
# exactly one symbol, _ZSt21ios_base_library_initv. The loader then refuses the whole library and every
# torch.* call throws TypeInitializationException. LibTorch itself is fine. The fix, on a copy (the
# NuGet cache is shared by every project and must stay as downloaded):
#   1. drop the version from that one symbol             (patchelf --clear-symbol-version)
#   2. make the GLIBCXX_3.4.32 requirement weak           (set_verneed_weak.c; patchelf cannot)
#   3. define the symbol in a tiny library beside it      (ios_base_library_init_shim.c, --add-needed;
#      found through the library's own $ORIGIN runpath)
#
# Called by build/TorchSharpNative.targets:
#   patch-libtorchsharp.sh needs-patch            prints true when the system libstdc++ lacks 3.4.32
#   patch-libtorchsharp.sh patch SOURCE.so OUTDIR  writes OUTDIR/libLibTorchSharp.so and OUTDIR/$SHIM
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly missing_version=GLIBCXX_3.4.32
readonly symbol=_ZSt21ios_base_library_initv
readonly shim=libtorchsharp-glibcxx-shim.so

# MSBuild's Exec turns lines of the form "origin : error : text" into build errors.
fail() {
  echo "patch-libtorchsharp.sh : error : $*" >&2
  exit 1
}

needs_patch() {
  # The libstdc++ the loader will hand to a 64-bit x86 process. ldconfig lives in /sbin, which is not
  # on every user's PATH.
  local ldconfig libstdcxx
  ldconfig="$(command -v ldconfig || echo /sbin/ldconfig)"
  libstdcxx="$("$ldconfig" -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ { print $NF; exit }')"
  if [[ -z "$libstdcxx" ]]; then
    # No x86-64 libstdc++ at all: the package's library cannot load either way; leave it alone.
    echo false
  elif grep -qF "$missing_version" "$libstdcxx"; then
    echo false
  else
    echo true
  fi
}

patch() {
  local source="$1" outdir="$2"
  [[ -f "$source" ]] || fail "$source not found"
  local tool
  for tool in patchelf gcc; do
    command -v "$tool" >/dev/null ||
      fail "'$tool' is needed to patch $(basename "$source") for this system's libstdc++ (no $missing_version); install with: apt-get install patchelf gcc"
  done

  mkdir -p "$outdir"
  local work
  work="$(mktemp -d "$outdir/.patch.XXXXXX")"
  trap "rm -rf '$work'" EXIT

  gcc -O2 -Wall -Wextra -Werror -o "$work/set_verneed_weak" "$here/set_verneed_weak.c"
  gcc -shared -fPIC -O2 -Wall -Wextra -Werror -Wl,-soname,"$shim" \
    -o "$work/$shim" "$here/ios_base_library_init_shim.c"

  local lib="$work/libLibTorchSharp.so"
  cp "$source" "$lib"
  chmod u+w "$lib"
  patchelf --clear-symbol-version "$symbol" "$lib"
  patchelf --add-needed "$shim" "$lib"
  # The shim sits beside the library; the package's runpath already starts with $ORIGIN, but say so
  # rather than rely on it.
  case "$(patchelf --print-rpath "$lib")" in
    *'$ORIGIN'*) ;;
    *) patchelf --set-rpath "\$ORIGIN:$(patchelf --print-rpath "$lib")" "$lib" ;;
  esac
  # Last, because it edits bytes in place and patchelf may move sections.
  "$work/set_verneed_weak" "$lib" "$missing_version"

  # Move into place only when complete, so an interrupted run never leaves a half-patched library
  # that MSBuild would then think up to date.
  mv -f "$work/$shim" "$outdir/$shim"
  mv -f "$lib" "$outdir/libLibTorchSharp.so"
}

case "${1:-}" in
  needs-patch) needs_patch ;;
  patch) [[ $# -eq 3 ]] || fail "usage: $0 patch SOURCE.so OUTDIR"; patch "$2" "$3" ;;
  *) fail "usage: $0 needs-patch | patch SOURCE.so OUTDIR" ;;
esac
