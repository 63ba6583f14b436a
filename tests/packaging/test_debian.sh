#!/bin/sh
# debian_package: the Debian packages of this tree, as an operator gets them.
#
# In a copy of the source tree (the tree itself stays clean), runs
# `dpkg-buildpackage -us -uc -b`, then checks:
#   - debian/changelog's version is the project's (meson.build);
#   - the five packages are there: privd, privd-tools, libprivd-dev,
#     python3-privd, and the library package named after the library's
#     soname (libprivd.so.2 -> libprivd2), each with its files (binaries,
#     unit and its configuration file, man pages, headers, pkg-config
#     file, the Python module);
#   - lintian reports no error (warnings are printed);
#   - the packaged programs work from the packages' files: privd-tools'
#     privctl pings privd's privd over CURVE through libprivd2's library,
#     and a C program built with libprivd-dev's pkg-config file does too,
#     and so does python3-privd's module (with Debian's python3);
#   - privd's postinst creates the privd system user once, with
#     /var/lib/privd as its home (run with stand-ins for adduser & co.).
# Skips (77) saying why when dpkg-buildpackage, debhelper or lintian is not
# installed (scripts/deps.sh test installs them), or a build dependency is
# missing.
#
# Environment (from tests/packaging/meson.build): PRIVD_SOURCE_ROOT,
# PRIVD_PROJECT_VERSION, POLICY_EXAMPLE.
set -u

src=${PRIVD_SOURCE_ROOT:?}
fail() {
	echo "debian_package: FAIL: $*" >&2
	exit 1
}
skip() {
	echo "debian_package: SKIP: $*"
	exit 77
}

for tool in dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian \
    dpkg-checkbuilddeps:dpkg-dev; do
	command -v "${tool%%:*}" >/dev/null 2>&1 ||
	    skip "${tool%%:*} is not installed (Debian package ${tool#*:};" \
	        "scripts/deps.sh test installs it)"
done
if ! why=$(cd "$src" && dpkg-checkbuilddeps 2>&1); then
	skip "build dependencies missing: $why"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/privd-deb.XXXXXX") || fail "mktemp"
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# 1. The version of the packages is the project's.
chver=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
[ "$chver" = "${PRIVD_PROJECT_VERSION:?}" ] ||
    fail "debian/changelog says $chver, meson.build $PRIVD_PROJECT_VERSION:" \
        "add a changelog entry (dch -v $PRIVD_PROJECT_VERSION)"

# 2. Build in a copy: what git tracks plus what it does not ignore (new
# files of a change under way), or the whole tree when it is no checkout.
mkdir "$tmp/src"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z -co --exclude-standard |
	    xargs -0 tar -cf - --no-recursion) | tar -xf - -C "$tmp/src" ||
	    fail "cannot copy the tree"
else
	(cd "$src" && tar -cf - --exclude='./build*' --exclude=./var .) |
	    tar -xf - -C "$tmp/src" || fail "cannot copy the tree"
fi
echo "debian_package: dpkg-buildpackage -us -uc -b (log: $tmp/build.log)"
start=$(date +%s)
if ! (cd "$tmp/src" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
	tail -n 60 "$tmp/build.log" >&2
	fail "dpkg-buildpackage failed"
fi
echo "debian_package: built in $(($(date +%s) - start)) s"
grep '^debian/rules:' "$tmp/build.log"
# New functions in libprivd: dpkg-gensymbols shows them (a disappeared one
# fails the build); they belong in debian/libprivd2.symbols, with the
# version that first ships them.
if grep -q '^dpkg-gensymbols: warning' "$tmp/build.log"; then
	echo "debian_package: NOTE: debian/libprivd2.symbols is not libprivd's" \
	    "list of symbols; add the new ones:"
	sed -n '/^dpkg-gensymbols: warning/,/^   dh_/p' "$tmp/build.log" |
	    grep -E '^(dpkg-gensymbols|\+ )'
fi

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
deb() { # package -> its .deb
	case $1 in
	python3-*) echo "$tmp/${1}_${chver}_all.deb" ;;
	*) echo "$tmp/${1}_${chver}_${arch}.deb" ;;
	esac
}
has() { # package, path: the package holds path
	dpkg-deb -c "$(deb "$1")" | awk '{ print $6 }' | grep -qx "./$2" ||
	    fail "package $1 lacks /$2"
}

# 3. The library package is named after the soname.
for p in privd privd-tools libprivd-dev python3-privd; do
	[ -f "$(deb $p)" ] || fail "no package $p ($(deb $p))"
done
mkdir "$tmp/root"
for f in "$tmp"/*.deb; do
	case $f in *-dbgsym_*) continue ;; esac
	dpkg-deb -x "$f" "$tmp/root" || fail "cannot unpack $f"
done
so=$(readelf -d "$tmp/root/usr/lib/$ma/libprivd.so" |
    sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
case $so in
libprivd.so.[0-9]*) libpkg=libprivd${so#libprivd.so.} ;;
*) fail "libprivd.so has no soname libprivd.so.N ($so)" ;;
esac
[ -f "$(deb "$libpkg")" ] ||
    fail "the library's soname is $so, so its package must be $libpkg" \
        "(rename libprivd* in debian/control and debian/*.install)"
echo "debian_package: $so in package $libpkg"

has privd usr/bin/privd
has privd lib/systemd/system/privd.service
has privd usr/share/man/man8/privd.8.gz
has privd usr/share/man/man5/privd-policy.5.gz
has privd-tools usr/bin/privctl
has privd-tools usr/share/man/man1/privctl.1.gz
has privd-tools usr/share/bash-completion/completions/privctl
has "$libpkg" "usr/lib/$ma/$so"
has libprivd-dev usr/include/privd/client.h
has libprivd-dev "usr/lib/$ma/libprivd.so"
has libprivd-dev "usr/lib/$ma/pkgconfig/libprivd.pc"
dpkg-deb -f "$(deb libprivd-dev)" Depends | grep -q "$libpkg (= $chver)" ||
    fail "libprivd-dev does not depend on $libpkg (= $chver)"
py=usr/lib/python3/dist-packages/privd
has python3-privd "$py/__init__.py"
has python3-privd "$py/privd_pb2.py"
has privd etc/privd/privd.conf
dpkg-deb -I "$(deb privd)" conffiles 2>/dev/null |
    grep -qx /etc/privd/privd.conf ||
    fail "/etc/privd/privd.conf is not a conffile (an upgrade would" \
        "overwrite the operator's edits)"

# 4. lintian: no errors.
lintian --fail-on none -I "$tmp"/*.changes >"$tmp/lintian.log" 2>&1 ||
    fail "lintian could not run: $(tail -n 5 "$tmp/lintian.log")"
grep -E '^[EWI]: ' "$tmp/lintian.log"
if grep -q '^E: ' "$tmp/lintian.log"; then
	fail "lintian reports errors"
fi

# 5. The packaged programs, from the packages' files: privctl pings privd
# through the packaged libprivd (not the build tree's), and so does a C
# program built with the packaged pkg-config file and headers.
r=$tmp/root
export LD_LIBRARY_PATH="$r/usr/lib/$ma"
ldd "$r/usr/bin/privctl" | grep -q "$r/usr/lib/$ma/$so" ||
    fail "the packaged privctl does not load the packaged $so"
mkdir -m 700 "$tmp/keys"
pub=$("$r/usr/bin/privctl" keygen --out "$tmp/keys/crm.key") ||
    fail "privctl keygen"
/usr/bin/python3 - "${POLICY_EXAMPLE:?}" "$pub" "$tmp/policy.json" <<'PY' ||
import json, sys
src, pub, out = sys.argv[1:4]
pol = json.load(open(src))
pol["principals"]["crm"]["key"] = pub
json.dump(pol, open(out, "w"))
PY
    fail "cannot write the test policy"
"$r/usr/bin/privd" init --data-dir "$tmp/data" --policy "$tmp/policy.json" \
    >"$tmp/init.log" 2>&1 || fail "privd init: $(cat "$tmp/init.log")"
ep="ipc://$tmp/s"
"$r/usr/bin/privd" serve --data-dir "$tmp/data" --listen "$ep" \
    --workers 1 2>"$tmp/privd.log" &
pid=$!
ping() {
	"$r/usr/bin/privctl" --endpoint "$ep" --server-key "$tmp/data/server.pub" \
	    --key "$tmp/keys/crm.key" --timeout 2000 ping
}
deadline=$(($(date +%s) + 60))
until out=$(ping 2>&1); do
	kill -0 "$pid" 2>/dev/null || fail "privd exited: $(cat "$tmp/privd.log")"
	[ "$(date +%s)" -lt "$deadline" ] ||
	    fail "privctl ping never answered: $out"
done
echo "$out" | grep -q crm || fail "ping did not name the principal: $out"

sed "s|^prefix=.*|prefix=$r/usr|" "$r/usr/lib/$ma/pkgconfig/libprivd.pc" \
    >"$tmp/libprivd.pc"
cat >"$tmp/ping.c" <<'C'
#include <stdio.h>
#include <privd/client.h>

int
main(int argc, char **argv)
{
	char pub[PRIVD_KEY_Z85_LEN], sec[PRIVD_KEY_Z85_LEN];
	char server[PRIVD_KEY_Z85_LEN + 2];
	privd_client *c = NULL;
	privd_pong pong;
	FILE *f;
	int rc;

	if (argc != 4 || (f = fopen(argv[2], "r")) == NULL ||
	    fgets(server, sizeof(server), f) == NULL)
		return 2;
	fclose(f);
	server[PRIVD_KEY_Z85_LEN - 1] = '\0';
	if ((rc = privd_keypair_load(argv[3], pub, sec)) != PRIVD_OK ||
	    (rc = privd_connect(&c, argv[1], server, pub, sec)) != PRIVD_OK ||
	    (rc = privd_ping(c, &pong)) != PRIVD_OK) {
		fprintf(stderr, "ping: %s\n", privd_strerror(rc));
		privd_close(&c);
		return 1;
	}
	printf("%s\n", pong.principal);
	privd_close(&c);
	return 0;
}
C
# only libprivd.pc: a program links dynamically with libprivd-dev alone,
# without the -dev packages of libprivd's own dependencies
flags=$(PKG_CONFIG_LIBDIR="$tmp" pkg-config --cflags --libs libprivd) ||
    fail "pkg-config cannot use the packaged libprivd.pc alone"
# shellcheck disable=SC2086
cc -o "$tmp/ping" "$tmp/ping.c" $flags ||
    fail "cannot build a program with the packaged libprivd-dev ($flags)"
out=$("$tmp/ping" "$ep" "$tmp/data/server.pub" "$tmp/keys/crm.key") ||
    fail "the program built against libprivd-dev cannot ping privd"
[ "$out" = crm ] || fail "the program's ping says $out"
out=$(PYTHONPATH="$r/usr/lib/python3/dist-packages" /usr/bin/python3 -c '
import sys, privd
assert privd.__file__.startswith(sys.argv[1]), privd.__file__
c = privd.Client(sys.argv[2], server_key_file=sys.argv[3], key_file=sys.argv[4])
print(c.ping().principal)
c.close()
' "$r/" "$ep" "$tmp/data/server.pub" "$tmp/keys/crm.key" 2>&1) ||
    fail "python3-privd's module cannot ping privd: $out"
[ "$out" = crm ] || fail "python3-privd's ping says $out"
kill "$pid"
wait "$pid" || fail "privd did not stop cleanly: $(cat "$tmp/privd.log")"
pid=""

# 6. postinst, with stand-ins that log their arguments: the first
# configure creates the privd system user, a later one (getent finds the
# user) leaves it alone.
mkdir "$tmp/bin" "$tmp/ctl"
dpkg-deb -e "$(deb privd)" "$tmp/ctl" || fail "cannot unpack privd's control"
for c in adduser install deb-systemd-helper deb-systemd-invoke systemctl; do
	printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$c" "$tmp/calls" >"$tmp/bin/$c"
	chmod +x "$tmp/bin/$c"
done
printf '#!/bin/sh\n[ -f "%s" ]\n' "$tmp/user-exists" >"$tmp/bin/getent"
chmod +x "$tmp/bin/getent"
PATH="$tmp/bin:$PATH" sh -e "$tmp/ctl/postinst" configure ||
    fail "postinst configure failed"
grep -qx 'adduser --system --group --quiet --home /var/lib/privd --no-create-home privd' \
    "$tmp/calls" || fail "postinst did not create the user: $(cat "$tmp/calls")"
[ -d /var/lib/privd ] ||
    grep -qx 'install -d -o privd -g privd -m 0700 /var/lib/privd' \
        "$tmp/calls" || fail "postinst did not make /var/lib/privd (0700)"
: >"$tmp/calls"
touch "$tmp/user-exists"
PATH="$tmp/bin:$PATH" sh -e "$tmp/ctl/postinst" configure "$chver" ||
    fail "postinst configure (upgrade) failed"
if grep -q '^adduser' "$tmp/calls"; then
	fail "postinst ran adduser for an existing user"
fi
echo "debian_package: OK"
