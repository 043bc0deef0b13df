#!/bin/bash
# scripts/security-tables.sh [--check] BUILD: regenerate the confinement
# tables in SECURITY.md from the shipped policies with `mpjail-policy
# explain`, so that they can never drift from what is enforced. Each table
# sits between
#   <!-- generated: mpjail-policy explain policy/NAME.policy -->
#   <!-- end generated -->
# With --check, exit 1 (and show the diff) when SECURITY.md is stale.
# The one line that describes this machine's kernel ("on this kernel:")
# is left out: the tables describe the policy, not a host.
set -euo pipefail
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
tool="$build/bin/mpjail-policy"
[ -x "$tool" ] || { echo "security-tables: $tool: build first" >&2; exit 1; }
doc="$top/SECURITY.md"
new=$(mktemp)
trap 'rm -f "$new"' EXIT

awk -v tool="$tool" -v top="$top" '
/^<!-- generated: mpjail-policy explain / {
	print
	file = $5
	print "```text"
	cmd = "cd " top " && " tool " explain " file
	while ((cmd | getline line) > 0)
		if (line !~ /^  on this kernel:/)
			print line
	if (close(cmd) != 0) { print "security-tables: explain " file " failed" > "/dev/stderr"; exit 1 }
	print "```"
	skip = 1
	next
}
/^<!-- end generated -->/ { skip = 0 }
!skip { print }
' "$doc" > "$new"

if [ $check -eq 1 ]; then
	if ! diff -u "$doc" "$new"; then
		echo "security-tables: SECURITY.md is stale: run scripts/security-tables.sh $build" >&2
		exit 1
	fi
	echo "security-tables: 1 passed, 0 failed"
else
	cp "$new" "$doc"
fi
