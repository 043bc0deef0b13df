#!/bin/sh
# scripts/install-deps.sh: install the Debian 12 packages mpjail needs.
#   install-deps.sh [build|check|demo]   (default: check)
# As root it runs apt-get; otherwise it prints the exact command and fails,
# so that a missing dependency is never silently skipped.
set -eu

what=${1:-check}

build_pkgs="build-essential pkg-config libseccomp-dev libcap-ng-dev libcmocka-dev"
run_pkgs="bubblewrap qemu-system-x86 qemu-utils python3 cppcheck clang-tidy clang-format clang-14 libclang-rt-14-dev llvm-14"
guest_pkgs="cpio xz-utils"

case "$what" in
build) pkgs="$build_pkgs" ;;
check) pkgs="$build_pkgs $run_pkgs $guest_pkgs" ;;
demo)  pkgs="$build_pkgs $run_pkgs $guest_pkgs" ;;
*) echo "usage: $0 [build|check|demo]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "mpjail: missing Debian packages:$missing" >&2
	echo "mpjail: run: sudo apt-get update && sudo apt-get install -y$missing" >&2
	exit 1
fi

echo "mpjail: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2
