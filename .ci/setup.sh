#!/usr/bin/env bash
# Installs what the platform needs on Debian bookworm, as root, and prepares the
# generated code. Idempotent: each step runs only when its result is missing.
# Usage: bash .ci/setup.sh [--for-tests]
set -euo pipefail
cd "$(dirname "$0")/.."

export MEDIASOUP_WORKER_CACHE="${MEDIASOUP_WORKER_CACHE:-/var/cache/taxpayer-classroom}"
# mediasoup's own postinstall would try to download or build its worker; ours is
# built from Debian's libraries below and cached outside the clone.
export MEDIASOUP_WORKER_BIN="${MEDIASOUP_WORKER_BIN:-$MEDIASOUP_WORKER_CACHE/mediasoup-worker-3.12.16}"

packages=(ffmpeg fonts-noto-cjk)
if [[ "${1:-}" == "--for-tests" ]]; then packages+=(chromium); fi
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "==> apt-get install ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
	# Not `npm ci`: Paraglide's @lix-js/sdk lists platform packages the registry
	# does not serve, so the lock file can never hold them and `npm ci` refuses it.
	echo "==> npm install (from package-lock.json)"
	npm install --no-audit --no-fund --no-save
fi

bash media-server/scripts/build-worker.sh

echo "==> generating SvelteKit types, Prisma client and messages"
# First: prisma.config.ts is loaded through tsconfig.json, which extends SvelteKit's.
npx svelte-kit sync
npx prisma generate >/dev/null
npm run --silent i18n >/dev/null
