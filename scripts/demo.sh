#!/bin/sh
# scripts/demo.sh [BUILD_DIR]: the `make demo` run. Prepares the Linux
# guest (scripts/fetch-guest.sh) and a fresh 64 MiB disk image, runs
# examples/demo.vm through mpjail-broker (mpjail-lsi and QEMU confined),
# audits the running remote against its policy, and prints a result table.
# The guest (mpjail.mode=demo) writes 32 MiB with O_DIRECT and fsync, reads
# it back and compares, timing both itself (boot not included), then
# powers off; the demo then re-checks the image from the host.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
broker=$build/bin/mpjail-broker
policy_tool=$build/bin/mpjail-policy
vmfile=$top/examples/demo.vm
img=$top/cache/demo/disk.img
work=$(mktemp -d "${TMPDIR:-/tmp}/mpjail-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

die() { echo "demo: $*" >&2; exit 1; }
[ -x "$broker" ] || die "missing $broker: run make first"

"$top/scripts/fetch-guest.sh" || die "could not prepare the guest"
mkdir -p "$(dirname "$img")"
rm -f "$img"
truncate -s 64M "$img"
chmod 0644 "$img"

# The remote: a descendant of the broker named mpjail-lsi.
find_remote() {
	pids=$1
	for _ in 1 2 3 4 5 6; do
		next=""
		for p in $pids; do
			for t in /proc/"$p"/task/*/children; do
				next="$next $(cat "$t" 2>/dev/null || true)"
			done
		done
		for p in $next; do
			[ "$(cat /proc/"$p"/comm 2>/dev/null)" = mpjail-lsi ] &&
			    { echo "$p"; return 0; }
		done
		pids=$next
	done
	return 1
}

echo "demo: running $vmfile through mpjail-broker" >&2
start=$(date +%s.%N)
"$broker" "$vmfile" >"$work/console" 2>"$work/log" &
bpid=$!

# Audit the remote while the guest runs: its namespaces, uid, capabilities,
# seccomp and fds against policy/lsi-remote.policy.
audit="not audited (remote not found)"
i=0
while [ $i -lt 100 ] && kill -0 "$bpid" 2>/dev/null; do
	if rpid=$(find_remote "$bpid"); then
		"$policy_tool" --disks 1 audit "$rpid" \
		    "$top/policy/lsi-remote.policy" >"$work/audit" 2>&1 || true
		audit=found
		break
	fi
	i=$((i + 1))
	sleep 0.1
done

# Follow the console while the VM runs.
tail -s 0.1 -f "$work/console" --pid="$bpid" 2>/dev/null |
    sed 's/^/  console| /' &
tpid=$!
wait "$bpid" && rc=0 || rc=$?
end=$(date +%s.%N)
wait "$tpid" || true
sed 's/^/  /' "$work/log" >&2

# Re-check the image from the host: every block the guest says it wrote.
host_ok=0 host_bad=0 bytes=0
grep '^MPJAIL-E2E: BLOCK ' "$work/console" | tr -d '\r' >"$work/blocks" || true
while read -r _ _ off len sum; do
	off=${off#off=} len=${len#len=} sum=${sum#sha256=}
	got=$(dd if="$img" bs=512 skip=$((off / 512)) count=$((len / 512)) \
	    2>/dev/null | sha256sum | cut -d' ' -f1)
	if [ "$got" = "$sum" ]; then host_ok=$((host_ok + 1)); else host_bad=$((host_bad + 1)); fi
	bytes=$((bytes + len))
done <"$work/blocks"

pass=no
grep -q '^MPJAIL-E2E: PASS' "$work/console" && pass=yes
secs=$(echo "$start $end" | awk '{ printf "%.1f", $2 - $1 }')
# MPJAIL-DEMO: WRITE|READ bytes=N csecs=N, measured in the guest.
rate() {
	sed -n "s/^MPJAIL-DEMO: $1 bytes=\([0-9]*\) csecs=\([0-9]*\).*/\1 \2/p" \
	    "$work/console" | tr -d '\r' | head -n 1 |
	    awk '{ if ($2 > 0) printf "%.2f MiB/s (%d MiB in %.2f s)", \
	        $1 / 1048576 / ($2 / 100), $1 / 1048576, $2 / 100;
	        else print "n/a" }'
}
wrate=$(rate WRITE)
rrate=$(rate READ)

summary() {	# one audit item's verdict, e.g. summary Seccomp
	grep -E "^(ok|FAIL) +$1 " "$work/audit" 2>/dev/null | head -n 1 |
	    sed -E 's/^(ok|FAIL) +[^ ]+ +//' | cut -c1-60
}
if [ "$audit" = found ]; then
	nsok=$(grep -cE '^ok +ns ' "$work/audit" || true)
	capok=$(grep -cE '^ok +Cap' "$work/audit" || true)
fi

echo
echo "mpjail demo: examples/demo.vm"
echo "+----------------------------+----------------------------------------------+"
printf "| %-26s | %-44s |\n" "guest verified its data" "$pass (write, O_DIRECT read-back, compare)"
printf "| %-26s | %-44s |\n" "host re-check of the image" "$host_ok of $((host_ok + host_bad)) blocks match ($bytes bytes)"
printf "| %-26s | %-44s |\n" "guest write + fsync" "${wrate:-n/a}"
printf "| %-26s | %-44s |\n" "guest read (O_DIRECT)" "${rrate:-n/a}"
printf "| %-26s | %-44s |\n" "whole run" "${secs} s (boot, I/O, power-off)"
if [ "$audit" = found ]; then
	printf "| %-26s | %-44s |\n" "remote: seccomp" "$(summary Seccomp)"
	printf "| %-26s | %-44s |\n" "remote: no_new_privs" "$(summary NoNewPrivs)"
	printf "| %-26s | %-44s |\n" "remote: capabilities" "$capok of 5 sets empty"
	printf "| %-26s | %-44s |\n" "remote: uid" "$(summary Uid | awk '{print $1}')"
	printf "| %-26s | %-44s |\n" "remote: own namespaces" "$nsok of 7 (user mnt pid net ipc uts cgroup)"
else
	printf "| %-26s | %-44s |\n" "remote confinement" "$audit"
fi
printf "| %-26s | %-44s |\n" "mpjail-broker exit status" "$rc"
echo "+----------------------------+----------------------------------------------+"
echo "(Under TCG the proxy delivers no INTx: the guest polls the LSI on the"
echo " timer tick, so the throughput is bounded by the tick, not by the remote.)"
[ "$pass" = yes ] && [ "$host_bad" -eq 0 ] && [ "$host_ok" -gt 0 ] && [ "$rc" -eq 0 ] ||
    die "the demo failed (see the log above)"
