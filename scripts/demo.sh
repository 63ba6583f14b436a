#!/bin/sh
# make run: start privd on a demo store under var/demo, with the example
# policy (policy/examples/aktiivitieto.json) and freshly generated client keys.
#
# The example policy's principal keys are placeholders whose secret halves
# were thrown away. On first run this script generates a real key pair per
# principal (var/demo/keys/NAME.key, 0600, never committed: var/ is ignored),
# writes var/demo/policy.json naming their public keys, and runs `privd init`.
# Later runs reuse the store, so data put in the demo stays - unless this
# privd no longer reads the store's format: then the demo starts over.
set -eu

BUILD=${1:-build}
top=$(pwd)
demo="$top/var/demo"
data="$demo/data"
keys="$demo/keys"
privd="$top/$BUILD/daemon/privd"
privctl="$top/$BUILD/client/privctl"
example="$top/policy/examples/aktiivitieto.json"
tcp="tcp://127.0.0.1:7700"
ipc="ipc://$data/privd.sock"

# The store format this privd reads (STORE_FORMAT in daemon/store.h). A
# demo store of another format (or from before the marker) starts over.
format=2
if [ -f "$data/master.key" ] &&
    [ "$(cat "$demo/format" 2>/dev/null)" != "$format" ]; then
	echo "privd demo: $data is in another store format; starting over"
	rm -rf "$demo"
fi

if [ ! -f "$data/master.key" ]; then
	echo "privd demo: creating $demo"
	rm -rf "$demo"
	mkdir -p "$keys"
	chmod 700 "$demo" "$keys"
	names=$(/usr/bin/python3 -c 'import json,sys
print(" ".join(json.load(open(sys.argv[1]))["principals"]))' "$example")
	for p in $names; do
		"$privctl" keygen --out "$keys/$p.key" >/dev/null
	done
	# Replace each principal's placeholder key with its new public key.
	/usr/bin/python3 - "$example" "$keys" "$demo/policy.json" <<'PY'
import json, sys
src, keydir, out = sys.argv[1:4]
pol = json.load(open(src))
for name, p in pol["principals"].items():
    for line in open(f"{keydir}/{name}.key"):
        k, _, v = line.partition("=")
        if k.strip() == "public-key":
            p["key"] = v.strip()
json.dump(pol, open(out, "w"), indent=2)
PY
	"$privd" init --data-dir "$data" --policy "$demo/policy.json" >/dev/null
	echo "$format" >"$demo/format"
fi

cat <<EOT

privd demo store: $data
  policy:  $demo/policy.json (the example policy with the demo keys)
  keys:    $keys/<principal>.key  ($(ls "$keys" | sed 's/\.key$//' | tr '\n' ' '))
  listens: $ipc
           $tcp

In another shell, talk to it as the CRM service:

  export PRIVD_ENDPOINT=$tcp
  export PRIVD_SERVER_KEY=$data/server.pub
  export PRIVD_KEY=$keys/crm.key
  $privctl ping
  $privctl put customers c-1001 --purpose customer_relationship \\
      name='Maija Meikäläinen' email=maija@example.fi phone='+358 40 123 4567'
  $privctl get customers c-1001 --purpose customer_relationship
  $privctl get customers c-1001 --purpose marketing --json
  PRIVD_KEY=$keys/billing.key $privctl get customers c-1001 --purpose customer_relationship   # denied
  $privctl delete customers c-1001 --purpose customer_relationship

As the auditor and the DPO (policy admin):

  PRIVD_KEY=$keys/auditor.key $privctl audit query --subject c-1001
  PRIVD_KEY=$keys/auditor.key $privctl audit verify
  PRIVD_KEY=$keys/dpo.key $privctl policy show

Stop privd with Ctrl-C (it finishes in-flight requests and exits cleanly).

EOT
exec "$privd" serve --data-dir "$data" --listen "$ipc" --listen "$tcp"
