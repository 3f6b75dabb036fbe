#!/usr/bin/env bash
# The cross-architecture claim, checked: runs the same .wasm files through the host under an
# arm64 Node.js (Debian's nodejs:arm64 unpacked in a scratch root, run by qemu-user-static)
# and compares every response, byte for byte, with the x86_64 host's. A correctness check,
# not a timing. Needs root on Debian (apt-get); run after `npm run build`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="${ARM64_ROOT:-node_modules/.cache/wasi-lambda-arm64-root}"

if ! command -v qemu-aarch64-static >/dev/null; then
  apt-get install -y -qq qemu-user-static >/dev/null
fi
if [ ! -x "$ROOT/usr/bin/node" ]; then
  dpkg --add-architecture arm64
  apt-get update -qq
  mkdir -p "$ROOT/debs"
  # nodejs:arm64 and every library it needs, downloaded (not installed) and unpacked.
  packages=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances --no-pre-depends nodejs:arm64 |
    grep -E '^[a-z0-9].*:arm64$' | sort -u)
  # Debian's Node.js loads some builtins from arch-independent packages in /usr/share/nodejs.
  packages="$packages $(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances node-acorn node-cjs-module-lexer node-undici |
    grep -E '^node-' | sort -u)"
  (cd "$ROOT/debs" && apt-get download $packages >/dev/null)
  for deb in "$ROOT"/debs/*.deb; do dpkg-deb -x "$deb" "$ROOT"; done
fi
node scripts/build-js.mjs
exec node scripts/arm64-check.mjs "$ROOT"
