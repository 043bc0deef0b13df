#!/bin/bash
# tests/install/test_install.sh: what a packager does. `make install` into
# a DESTDIR; build a tiny C program against the installed library through
# pkg-config (shared and static); run it against the installed mpjail-lsi;
# render every installed man page with groff -ww (no warning allowed);
# `make uninstall` and check that nothing of ours is left.
set -euo pipefail
O=${O:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
dest=$(mktemp -d /tmp/mpjail-install-XXXXXX)
trap 'rm -rf "$dest"' EXIT
passed=0 failed=0
ok()   { echo "ok     $1"; passed=$((passed + 1)); }
fail() { echo "FAILED $1"; failed=$((failed + 1)); }

make -s -C "$top" O="$O" install DESTDIR="$dest" PREFIX=/usr >/dev/null
for f in usr/libexec/mpjail/mpjail-lsi usr/libexec/mpjail/mpjail-exec \
	usr/sbin/mpjail-broker usr/bin/mpjail-policy usr/bin/mpjail-run \
	usr/include/mpjail-proxy.h usr/include/mpjail-proxy-lsi.h \
	usr/lib/libmpjail-proxy.so.0 usr/lib/libmpjail-proxy.a \
	usr/lib/pkgconfig/mpjail-proxy.pc usr/lib/systemd/system/mpjail@.service \
	usr/share/mpjail/policy/lsi-remote.policy usr/share/mpjail/examples/demo.vm \
	etc/mpjail/policy; do
	if [ -e "$dest/$f" ]; then ok "installed /$f"; else fail "installed /$f"; fi
done

export PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
flags=$(pkg-config --cflags --libs mpjail-proxy)
src="$top/tests/install/hello-mpjail.c"
if cc -o "$dest/hello-shared" "$src" $flags &&
	out=$(LD_LIBRARY_PATH="$dest/usr/lib" "$dest/hello-shared" \
	"$dest/usr/libexec/mpjail/mpjail-lsi"); then
	ok "shared build via pkg-config runs against the installed mpjail-lsi ($out)"
else
	fail "shared build via pkg-config"
fi
if cc -o "$dest/hello-static" "$src" $(pkg-config --cflags mpjail-proxy) \
	"$dest/usr/lib/libmpjail-proxy.a" &&
	"$dest/hello-static" "$dest/usr/libexec/mpjail/mpjail-lsi" >/dev/null; then
	ok "static build runs against the installed mpjail-lsi"
else
	fail "static build"
fi

for m in "$dest"/usr/share/man/man*/*; do
	warn=$(groff -ww -man -Tutf8 "$m" 2>&1 >/dev/null || echo "groff failed")
	if [ -z "$warn" ]; then ok "man page $(basename "$m") renders cleanly"
	else fail "man page $(basename "$m"): $warn"; fi
done

if command -v systemd-analyze >/dev/null; then
	unit="$dest/usr/lib/systemd/system/mpjail@.service"
	# only its own syntax: the binaries it names are not installed here
	bad=$(systemd-analyze verify "$unit" 2>&1 | grep -v -e 'is not executable' \
		-e "Command 'man " || true)
	if [ -z "$bad" ]; then ok "systemd unit verifies"; else fail "systemd unit: $bad"; fi
fi

make -s -C "$top" O="$O" uninstall DESTDIR="$dest" PREFIX=/usr >/dev/null
rm -f "$dest/hello-shared" "$dest/hello-static"
left=$(find "$dest" -type f -o -type l)
if [ -z "$left" ]; then ok "uninstall removes every installed file"
else fail "uninstall left: $left"; fi

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
