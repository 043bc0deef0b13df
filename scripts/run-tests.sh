#!/bin/sh
# scripts/run-tests.sh SUITE TEST...: run each test, print its output, and
# fail at the end if any test failed. A test that cannot find what it needs
# fails; nothing here skips.
suite=$1; shift
failed=""
n=0
for t in "$@"; do
	n=$((n + 1))
	echo "=== $suite: $t"
	case "$t" in
	*.py) python3 "$t" ;;
	*) "$t" ;;
	esac
	rc=$?
	[ $rc -eq 0 ] || failed="$failed $t(rc=$rc)"
done
if [ "$n" -eq 0 ]; then
	echo "$suite: no tests found" >&2
	exit 1
fi
if [ -n "$failed" ]; then
	echo "$suite: FAILED:$failed" >&2
	exit 1
fi
echo "$suite: all $n programs passed"
