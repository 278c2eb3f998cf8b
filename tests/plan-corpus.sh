#!/bin/sh
# plan-corpus.sh: runs `hotsoak validate` over the plan corpus. Every
# tests/plans/invalid/CASE.yaml must exit 1 with stderr equal to CASE.err;
# every valid plan (tests/plans/valid and the shipped plans/) must exit 0
# silently and print JSON that validates again to the same JSON.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
hotsoak=$top_builddir/hotsoak
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hotsoak-corpus.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }

# Paths in messages are the ones given on the command line, so run from
# each case's folder with its bare name.
for yaml in "$top_srcdir"/tests/plans/invalid/*.yaml; do
	[ -e "$yaml" ] || continue
	name=$(basename "$yaml" .yaml)
	err=${yaml%.yaml}.err
	if [ ! -f "$err" ]; then
		bad "invalid/$name: no $name.err beside it"
		continue
	fi
	(cd "$(dirname "$yaml")" && timeout 10 "$hotsoak" validate "$name.yaml") \
	    >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 1 ]; then
		bad "invalid/$name: exit $rc, expected 1"
		sed 's/^/#   /' "$tmp/err"
	elif ! cmp -s "$err" "$tmp/err"; then
		bad "invalid/$name: errors differ (- expected, + got)"
		diff -u "$err" "$tmp/err" | sed 's/^/#   /'
	elif [ -s "$tmp/out" ]; then
		bad "invalid/$name: printed to stdout"
	else
		ok "invalid/$name"
	fi
done

for yaml in "$top_srcdir"/tests/plans/valid/*.yaml "$top_srcdir"/plans/*.yaml; do
	[ -e "$yaml" ] || continue
	rel=${yaml#"$top_srcdir"/}
	if ! timeout 10 "$hotsoak" validate --print "$yaml" >"$tmp/a.json" 2>"$tmp/err"; then
		bad "$rel: rejected"
		sed 's/^/#   /' "$tmp/err"
		continue
	fi
	if [ -s "$tmp/err" ]; then
		bad "$rel: wrote to stderr"
		continue
	fi
	# A campaign's plan names resolve beside it: give the copy its plans.
	cp "$tmp/a.json" "$tmp/rt.json"
	if grep -q '"kind": "campaign"' "$tmp/a.json"; then
		cp "$(dirname "$yaml")"/*.yaml "$tmp/"
	fi
	if ! timeout 10 "$hotsoak" validate --print "$tmp/rt.json" >"$tmp/b.json" 2>"$tmp/err"; then
		bad "$rel: its --print output does not validate"
		sed 's/^/#   /' "$tmp/err"
	elif ! cmp -s "$tmp/a.json" "$tmp/b.json"; then
		bad "$rel: --print is not stable"
		diff -u "$tmp/a.json" "$tmp/b.json" | sed 's/^/#   /'
	else
		ok "$rel"
	fi
	rm -f "$tmp"/*.yaml
done

echo "$pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
