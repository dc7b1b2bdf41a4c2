#!/usr/bin/env bash
# Stages the files of a Redis image built FROM scratch, for machines that
# cannot pull redis:7-alpine, in the build context DIR: DIR/redis-rootfs holds
# this machine's redis-server (from Debian's redis-server package, installed
# if missing when run as root), the shared libraries ldd names and a passwd
# entry for the redis user (999); DIR/redis-data is the empty directory that
# becomes /data, owned by that user, where the append-only file goes.
#
#   deploy/stage-redis.sh DIR        (make docker-scratch runs it on bin)
#
# deploy/Dockerfile.scratch (target redis) copies both into the image. A test
# image: production runs a managed Redis or the official image.
set -euo pipefail

log() { printf 'stage-redis.sh: %s\n' "$*" >&2; }

(($# == 1)) || { log "usage: $0 DIR"; exit 2; }
dest=$1/redis-rootfs

if ! command -v redis-server >/dev/null 2>&1; then
	if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
		log 'redis-server is missing: install it (Debian: apt-get install -y redis-server) and rerun'
		exit 1
	fi
	log 'installing redis-server with apt-get'
	DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120 update
	DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120 install -y --no-install-recommends redis-server
fi
server=$(readlink -f "$(command -v redis-server)")

rm -rf "$dest" "$1/redis-data"
mkdir -p "$1/redis-data"
mkdir -p "$dest/usr/local/bin" "$dest/etc" "$dest/tmp"
# Debian's redis-server is a symlink to redis-check-rdb: the binary picks its
# role from argv[0], so it must be installed under the name redis-server.
cp "$server" "$dest/usr/local/bin/redis-server"

# Every library the dynamic loader resolves, and the loader itself, at the
# path the binary expects; symlinks are copied as the files they name.
ldd "$server" | awk '/=> \//{print $3} /^[[:space:]]*\//{print $1}' | sort -u |
	while read -r lib; do
		mkdir -p "$dest$(dirname "$lib")"
		cp -L "$lib" "$dest$lib"
	done

printf 'root:x:0:0:root:/root:/sbin/nologin\nredis:x:999:999:redis:/data:/sbin/nologin\n' >"$dest/etc/passwd"
printf 'root:x:0:\nredis:x:999:\n' >"$dest/etc/group"
log "staged $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/redis-server \1/p') and $(find "$dest" -name '*.so*' | wc -l) libraries in $dest"
