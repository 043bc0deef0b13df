#!/bin/sh
# scripts/check-globals.sh OBJ...: no writable global outside a main.c.
# Mutable state lives in main.c and is passed down; an object symbol in a
# writable section (.data, .bss and their subsections, but not
# .data.rel.ro, which RELRO makes read-only) of any other object is refused.
bad=0
for o in "$@"; do
	syms=$(objdump -t "$o" | awk '
		$0 ~ / O / {
			for (i = 1; i <= NF; i++) if ($i == "O") sec = $(i + 1)
			if (sec ~ /^\.(data|bss|tbss|tdata)/ && sec !~ /^\.data\.rel\.ro/)
				print $NF
		}')
	if [ -n "$syms" ]; then
		echo "globals: writable data in $o: $syms" >&2
		bad=1
	fi
done
[ $bad -eq 0 ] && echo "globals: ok"
exit $bad
