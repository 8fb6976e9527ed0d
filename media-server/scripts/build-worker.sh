#!/usr/bin/env bash
# Builds mediasoup's C++ worker offline on Debian bookworm and points
# node_modules/mediasoup at it.
#
# mediasoup's own install downloads a prebuilt worker, or its meson
# subprojects, from GitHub; neither is reachable on our machines. Instead we
# build against Debian's libraries through small subproject shims
# (worker-shims/), with libsrtp 2.5.0 built from Debian's source package
# against OpenSSL (Debian's binary uses NSS, which is slow per packet).
#
# The binary is cached outside the clone, keyed by mediasoup version, so later
# runs and other clones on the machine only re-create the link.
#
# Usage (as root, from anywhere):  media-server/scripts/build-worker.sh
# Env: MEDIASOUP_WORKER_CACHE  cache directory (default /var/cache/taxpayer-classroom)
set -euo pipefail

SUPPORTED_VERSION=3.12.16
BUILD_DEPS=(
	build-essential pkg-config meson ninja-build dpkg-dev
	libuv1-dev libssl-dev libusrsctp-dev nlohmann-json3-dev libabsl-dev
)

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/../.." && pwd)"
shims_dir="$script_dir/worker-shims"
cache_dir="${MEDIASOUP_WORKER_CACHE:-/var/cache/taxpayer-classroom}"

log() { printf '[build-worker] %s\n' "$*"; }
die() { printf '[build-worker] ERROR: %s\n' "$*" >&2; exit 1; }

mediasoup_dir="$(cd "$repo_root" && node -p "require('path').dirname(require.resolve('mediasoup/package.json'))")" ||
	die "mediasoup is not installed; run npm ci first (with MEDIASOUP_WORKER_BIN set to skip its download)"
version="$(node -p "require('$mediasoup_dir/package.json').version")"
[[ "$version" == "$SUPPORTED_VERSION" ]] ||
	die "mediasoup $version installed, but worker-shims/ are written for $SUPPORTED_VERSION"

cached_bin="$cache_dir/mediasoup-worker-$version"
worker_link="$mediasoup_dir/worker/out/Release/mediasoup-worker"

# A machine with internet may already have mediasoup's own worker here.
if [[ -e "$worker_link" && ! -L "$worker_link" ]]; then
	log "mediasoup's own worker exists at $worker_link; leaving it alone"
	exit 0
fi

need_root() {
	[[ $EUID -eq 0 ]] || die "$1 needs root; re-run as root"
}

apt_updated=0
apt_update_once() {
	if [[ $apt_updated -eq 0 ]]; then
		log "apt-get update"
		apt-get update -qq
		apt_updated=1
	fi
}

missing=()
for pkg in "${BUILD_DEPS[@]}"; do
	status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
	[[ "$status" == "installed" ]] || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
	need_root "installing ${missing[*]}"
	apt_update_once
	log "apt-get install ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
	log "build dependencies already installed"
fi

# Adds a deb-src line for the mirror the machine already uses for bookworm.
ensure_deb_src() {
	if grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		return
	fi
	need_root "adding a deb-src entry"
	local codename mirror
	codename="$(. /etc/os-release && echo "$VERSION_CODENAME")"
	mirror="$(grep -rhsE '^URIs:.*/debian/?$' /etc/apt/sources.list.d/*.sources | head -n1 | awk '{print $2}')"
	if [[ -z "$mirror" ]]; then
		mirror="$(grep -hsE "^deb\s.*\s$codename\s" /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
			head -n1 | sed -E 's/^deb\s+(\[[^]]*\]\s+)?(\S+).*/\2/')"
	fi
	mirror="${mirror:-http://deb.debian.org/debian}"
	log "adding deb-src $mirror $codename"
	cat >/etc/apt/sources.list.d/taxpayer-classroom-src.sources <<-EOF
		Types: deb-src
		URIs: $mirror
		Suites: $codename
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	apt_updated=0
}

build_worker() {
	local started tmp worker srtp_dir orig
	started=$SECONDS
	tmp="$(mktemp -d /tmp/mediasoup-worker-build.XXXXXX)"
	trap 'rm -rf "$tmp"' EXIT
	worker="$tmp/worker"

	log "copying mediasoup $version worker sources to $worker"
	mkdir -p "$worker"
	(cd "$mediasoup_dir/worker" && tar --exclude=./out -cf - .) | tar -xf - -C "$worker"
	# Bookworm ships meson 1.0.1; nothing in this meson.build needs 1.1.
	sed -i "s/meson_version: '>= 1.1.0'/meson_version: '>= 1.0.0'/" "$worker/meson.build"

	ensure_deb_src
	apt_update_once
	log "downloading Debian's libsrtp2 source package"
	mkdir -p "$tmp/srtp-src"
	# apt's unprivileged _apt user downloads into this directory.
	chmod 755 "$tmp"
	chmod 777 "$tmp/srtp-src"
	(cd "$tmp/srtp-src" && apt-get source --download-only -qq libsrtp2 >/dev/null)
	orig="$(ls "$tmp"/srtp-src/libsrtp2_2.5.0.orig.tar.* 2>/dev/null | head -n1)"
	[[ -n "$orig" ]] || die "Debian's libsrtp2 source is not version 2.5.0: $(ls "$tmp/srtp-src")"

	srtp_dir="$worker/subprojects/libsrtp-2.5.0"
	mkdir -p "$srtp_dir"
	tar -xf "$orig" -C "$srtp_dir" --strip-components=1
	log "building libsrtp 2.5.0 (OpenSSL crypto, static)"
	(
		cd "$srtp_dir"
		./configure --enable-openssl CFLAGS="-O3 -fPIC" >"$tmp/srtp-configure.log" 2>&1 ||
			{ cat "$tmp/srtp-configure.log"; exit 1; }
		make -j"$(nproc)" libsrtp2.a >"$tmp/srtp-make.log" 2>&1 || { cat "$tmp/srtp-make.log"; exit 1; }
	)

	log "installing subproject shims"
	# Copied after the libsrtp source so the shim's meson.build replaces upstream's.
	cp -a "$shims_dir"/*/ "$worker/subprojects/"

	log "meson setup"
	(cd "$worker" && meson setup --buildtype=release --wrap-mode=nodownload \
		-Db_ndebug=true -Db_pie=true -Db_staticpic=true build >"$tmp/meson.log" 2>&1) ||
		{ cat "$tmp/meson.log"; die "meson setup failed"; }
	log "ninja build (about 5-6 minutes on 2 cores)"
	if ! ninja -C "$worker/build" mediasoup-worker 2>&1 | tee "$tmp/ninja.log" |
		awk 'NR % 20 == 0 { print "[build-worker]   " $0; fflush() }'; then
		tail -n 40 "$tmp/ninja.log"
		die "ninja failed"
	fi

	if ldd "$worker/build/mediasoup-worker" | grep -q 'not found'; then
		ldd "$worker/build/mediasoup-worker"
		die "the built worker misses shared libraries"
	fi

	mkdir -p "$cache_dir"
	install -m 0755 "$worker/build/mediasoup-worker" "$cached_bin.tmp.$$"
	mv -f "$cached_bin.tmp.$$" "$cached_bin"
	log "cached $cached_bin (built in $((SECONDS - started)) s)"
	rm -rf "$tmp"
	trap - EXIT
}

if [[ -x "$cached_bin" ]]; then
	log "using cached worker $cached_bin"
else
	mkdir -p "$cache_dir" 2>/dev/null || need_root "creating $cache_dir"
	# Two clones building at once would each spend minutes; the second waits.
	exec 9>"$cache_dir/.build-worker.lock"
	flock 9
	if [[ -x "$cached_bin" ]]; then
		log "another run built $cached_bin meanwhile"
	else
		build_worker
	fi
fi

mkdir -p "$(dirname "$worker_link")"
ln -sfn "$cached_bin" "$worker_link.tmp.$$"
mv -fT "$worker_link.tmp.$$" "$worker_link"
log "linked $worker_link -> $cached_bin"
