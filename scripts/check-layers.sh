#!/bin/sh
# scripts/check-layers.sh: the layering in ARCHITECTURE.md, checked.
# broker/ must not speak the wire protocol (it never reads a message);
# remote/ must not reach into broker/, policy/ or proxy/ (it links only
# sandbox/'s self side, its own lockdown);
# the wire codec depends on nothing of ours.
bad=0
check() { # folder pattern reason
	hits=$(grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($2)" "$1" 2>/dev/null)
	if [ -n "$hits" ]; then
		echo "layering: $3:" >&2
		echo "$hits" >&2
		bad=1
	fi
}
check broker 'wire/|remote/|proxy/|mpjail-proxy' "broker/ must not include the wire codec, remote/ or proxy/"
check remote 'broker/|policy/|proxy/|mpjail-proxy' "remote/ must not include broker/, policy/ or proxy/"
check proxy 'broker/|remote/|policy/|sandbox/' "proxy/ must not include broker/, remote/, policy/ or sandbox/"
check wire 'broker/|remote/|policy/|sandbox/|proxy/' "wire/ depends on nothing of ours"
[ $bad -eq 0 ] && echo "layers: ok"
exit $bad
