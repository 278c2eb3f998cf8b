#!/bin/sh
# get-promtool.sh: puts promtool (for `promtool check metrics` in
# check-metrics) in DIR, from Debian's prometheus package.
#
# usage: get-promtool.sh DIR
#
# Nothing to do when promtool is in PATH or DIR/promtool runs already, nor
# after a failed try (DIR/promtool.skip; `make clean` forgets it).
# Otherwise the package is fetched with `apt-get download` into DIR and
# unpacked with `dpkg-deb -x`; it is never installed (installing it would
# start a Prometheus server). When that cannot be done (no network, not
# Debian) DIR/promtool.skip says why and this still succeeds: the tests
# then check the metrics with their own strict reader alone.
set -u

PACKAGE=prometheus

[ $# -eq 1 ] || { echo "usage: get-promtool.sh DIR" >&2; exit 2; }
dir=$1

command -v promtool >/dev/null 2>&1 && exit 0
[ -x "$dir/promtool" ] && "$dir/promtool" --version >/dev/null 2>&1 && exit 0

if [ -f "$dir/promtool.skip" ]; then
	echo "get-promtool: not tried again: $(cat "$dir/promtool.skip")" >&2
	exit 0
fi
mkdir -p "$dir" || exit 1
dir=$(cd "$dir" && pwd)

skip() {
	echo "get-promtool: $*; promtool checks are skipped" >&2
	echo "$*" >"$dir/promtool.skip"
	rm -rf "$dir/work" "$dir"/*.deb
	exit 0
}

for tool in apt-get dpkg-deb; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool not found (not Debian)"
done

# apt-get download writes into the current folder. A host without network
# must not hold up the tests for long.
limit=
command -v timeout >/dev/null 2>&1 && limit="timeout 300"
if ! (cd "$dir" && $limit apt-get download -q "$PACKAGE" >"$dir/apt.log" 2>&1); then
	why=$(grep -E '^(E|Err):' "$dir/apt.log" | head -n 1)
	skip "apt-get download $PACKAGE failed${why:+: $why}"
fi
deb=$(ls "$dir"/${PACKAGE}_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || skip "apt-get download $PACKAGE left no package"

rm -rf "$dir/work"
mkdir "$dir/work"
dpkg-deb -x "$deb" "$dir/work" || skip "dpkg-deb -x $deb failed"
[ -x "$dir/work/usr/bin/promtool" ] || skip "$deb holds no usr/bin/promtool"
"$dir/work/usr/bin/promtool" --version >/dev/null 2>&1 ||
	skip "the unpacked promtool does not run here"
mv "$dir/work/usr/bin/promtool" "$dir/promtool.tmp" &&
	mv "$dir/promtool.tmp" "$dir/promtool" || skip "cannot move promtool into $dir"
rm -rf "$dir/work" "$deb" "$dir/apt.log"
echo "get-promtool: $dir/promtool from $(basename "$deb")"
