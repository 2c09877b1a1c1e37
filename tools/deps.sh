#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of Tardigrade from
# Debian 12 packages. Idempotent: when everything is present it only asks
# dpkg and returns in well under a second.
set -euo pipefail

PACKAGES=(
    # build
    gcc make cmake ninja-build pkg-config clang-format
    # libraries
    librocksdb-dev libuv1-dev libprotobuf-c-dev protobuf-c-compiler liblz4-dev zlib1g-dev libgmp-dev
    libpg-query-dev libpq-dev libssl-dev libjansson-dev libcurl4-openssl-dev libpcre2-dev
    libxxhash-dev
    # tests
    libcriterion-dev python3 python3-psycopg2 postgresql-client
    # benchmarks and reference systems
    rocksdb-tools postgresql etcd-server etcd-client libnghttp2-dev
    # fault injection (jepsen/)
    iproute2 iptables faketime libfaketime
)

missing=()
for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# policy-rc.d keeps the packaged postgresql and etcd services from starting:
# tests and benchmarks start their own instances on loopback.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
