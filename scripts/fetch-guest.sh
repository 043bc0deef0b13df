#!/bin/sh
# scripts/fetch-guest.sh [DIR]: the end-to-end tests' Linux guest, built
# from Debian 12 packages only. Downloads the kernel linux-image-amd64
# depends on and busybox-static with `apt-get download`, unpacks them with
# `dpkg -x`, and packs an initramfs (cpio newc, gzip) holding busybox, the
# sym53c8xx module with its dependencies in load order, and
# tests/e2e/guest/init. Idempotent: what is already in DIR is kept; the
# initramfs is rebuilt only when its inputs are newer.
#   DIR defaults to $MPJAIL_GUEST_DIR, else cache/guest in the repository.
# Prints nothing on a cache hit; results: DIR/vmlinuz, DIR/initrd.gz.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-${MPJAIL_GUEST_DIR:-$top/cache/guest}}
init_src=$top/tests/e2e/guest/init

# Load order matters: busybox insmod resolves no dependencies.
modules="scsi_common scsi_mod scsi_transport_spi sym53c8xx crct10dif_common
crc-t10dif crc64 crc64-rocksoft t10-pi sd_mod"

die() { echo "fetch-guest: $*" >&2; exit 1; }

for tool in apt-get apt-cache dpkg cpio gzip find; do
	command -v "$tool" >/dev/null 2>&1 || die "missing $tool (scripts/install-deps.sh check)"
done

mkdir -p "$dir/debs" "$dir/root"
dir=$(cd "$dir" && pwd)

# The kernel ABI package linux-image-amd64 points at, e.g.
# linux-image-6.1.0-57-amd64.
kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
	    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1
}

fetched() { [ -f "$dir/debs/.done" ]; }

if ! fetched; then
	kpkg=$(kernel_pkg)
	if [ -z "$kpkg" ]; then
		[ "$(id -u)" -eq 0 ] || die "apt lists are empty; run: sudo apt-get update"
		apt-get update -q >&2
		kpkg=$(kernel_pkg)
		[ -n "$kpkg" ] || die "linux-image-amd64 has no linux-image-*-amd64 dependency"
	fi
	echo "fetch-guest: downloading $kpkg busybox-static into $dir/debs" >&2
	rm -f "$dir/debs/"*.deb
	# apt-get download writes into the current directory.
	if ! (cd "$dir/debs" && apt-get download -q "$kpkg" busybox-static >&2); then
		# stale lists name versions the mirror no longer has
		[ "$(id -u)" -eq 0 ] || die "apt-get download failed; run: sudo apt-get update"
		apt-get update -q >&2
		kpkg=$(kernel_pkg)
		(cd "$dir/debs" && apt-get download -q "$kpkg" busybox-static >&2) ||
		    die "apt-get download $kpkg busybox-static failed"
	fi
	echo "$kpkg" > "$dir/debs/.done"
fi

if [ ! -f "$dir/root/.done" ]; then
	echo "fetch-guest: unpacking into $dir/root" >&2
	rm -rf "$dir/root"
	mkdir -p "$dir/root"
	for deb in "$dir/debs/"*.deb; do
		dpkg -x "$deb" "$dir/root"
	done
	touch "$dir/root/.done"
fi

kernel=$(find "$dir/root/boot" -name 'vmlinuz-*' | head -n 1)
[ -n "$kernel" ] || die "no vmlinuz in $dir/root/boot"
busybox=$dir/root/bin/busybox
[ -x "$busybox" ] || die "no busybox in $dir/root/bin"
[ -f "$init_src" ] || die "missing $init_src"
cp -p "$kernel" "$dir/vmlinuz.new"
mv "$dir/vmlinuz.new" "$dir/vmlinuz"

# Rebuild the initramfs only when this script, the init or the unpacked
# packages are newer than it.
if [ -f "$dir/initrd.gz" ] &&
    [ -z "$(find "$0" "$init_src" "$dir/root/.done" -newer "$dir/initrd.gz" 2>/dev/null)" ]; then
	exit 0
fi

echo "fetch-guest: building $dir/initrd.gz" >&2
staging=$dir/initramfs
rm -rf "$staging"
mkdir -p "$staging/bin" "$staging/dev" "$staging/proc" "$staging/sys" \
    "$staging/tmp" "$staging/lib/modules"
cp "$busybox" "$staging/bin/busybox"
ln -s busybox "$staging/bin/sh"
i=0
for m in $modules; do
	ko=$(find "$dir/root/lib/modules" \( -name "$m.ko" -o -name "$m.ko.xz" \) | head -n 1)
	[ -n "$ko" ] || die "module $m not found under $dir/root/lib/modules"
	i=$((i + 1))
	# a number prefix keeps the load order in the file names
	out=$staging/lib/modules/$(printf '%02d' "$i")-$m.ko
	case "$ko" in
	*.xz)
		command -v xz >/dev/null 2>&1 || die "missing xz (xz-utils)"
		xz -dc "$ko" > "$out" ;;
	*) cp "$ko" "$out" ;;
	esac
done
cp "$init_src" "$staging/init"
chmod 755 "$staging/init"
(cd "$staging" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
    gzip -9 > "$dir/initrd.gz.new"
mv "$dir/initrd.gz.new" "$dir/initrd.gz"
rm -rf "$staging"
