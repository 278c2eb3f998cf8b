#!/bin/sh
# man-pages.sh: the manual pages and the systemd unit against what they
# describe. Every page renders without a groff warning; every option and
# command the programs' --help prints, every top-level plan and campaign
# key, step action, finding kind and cron shortcut in the parser's tables
# has an entry of its own (a .TP tag); every other key of those tables is
# named; systemd-analyze verify accepts the unit; and `make install
# DESTDIR=...` of this build tree puts the four pages and the unit in place.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hotsoak-man.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }
skip() { echo "ok - $1 # SKIP $2"; }

src=$top_srcdir
pages="daemon/hotsoakd.8 daemon/hotsoak.1 agent/hotsoak-agent.8 plans/hotsoak-plan.5"

# The source with roff escapes and quotes taken out, macros dropped.
plain() {
	sed -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\-/-/g' \
	    -e 's/\\%//g' -e 's/\\c//g' -e 's/\\&//g' -e 's/\\e/\\/g' \
	    -e 's/"//g' -e 's/^\.[A-Za-z][A-Za-z]* *//' "$1"
}

# The words of the page's entries: the line after every .TP, one a line.
tags() {
	awk 'tp { print; tp = 0 } /^\.TP/ { tp = 1 }' "$1" >"$tmp/tag.roff"
	plain "$tmp/tag.roff" | tr -c 'A-Za-z0-9_@-' '\n' | grep -v '^$' |
	    sort -u
}

# The entries of section $2 of the page: their first words (what each is
# about) with $3 = first, else all their words.
heads() {
	awk -v sh=".SH $2" '$0 == sh { on = 1; next } on && /^\.SH/ { exit }
	    on && tp { print; tp = 0 } on && /^\.TP/ { tp = 1 }' "$1" \
	    >"$tmp/head.roff"
	if [ "${3:-}" = first ]; then
		plain "$tmp/head.roff" | awk '{ print $1 }'
	else
		plain "$tmp/head.roff" | tr -c 'A-Za-z0-9_@-' '\n'
	fi | grep -v '^$' | sort -u
}

# Every word of the page, one a line.
words() {
	plain "$1" | tr -c 'A-Za-z0-9_@-' '\n' | grep -v '^$' | sort -u
}

# expect_in LIST_FILE WORDS_FILE WHAT PAGE: each line of LIST_FILE among
# WORDS_FILE; an empty LIST_FILE is a failure (the extraction broke).
expect_in() {
	if [ ! -s "$1" ]; then
		bad "$3: found none to check (has the code moved?)"
		return
	fi
	missing=$(grep -vxF -f "$2" "$1" | tr '\n' ' ')
	if [ -n "$missing" ]; then
		bad "$4 lacks an entry for $3: $missing"
	else
		ok "$4 documents every $3 ($(wc -l <"$1" | tr -d ' '))"
	fi
}

# 1. Each page renders cleanly, and its .TH names it.
for page in $pages; do
	name=$(basename "$page")
	th=$(awk '/^\.TH/ { print tolower($2) "." $3; exit }' "$src/$page")
	if [ "$th" = "$name" ]; then
		ok "$page: .TH names $name"
	else
		bad "$page: .TH says $th"
	fi
	if ! command -v groff >/dev/null 2>&1; then
		skip "$page renders without warnings" "no groff"
		continue
	fi
	: >"$tmp/groff.err"
	for dev in utf8 ps; do
		groff -man -ww -z -T"$dev" "$src/$page" 2>>"$tmp/groff.err" ||
		    echo "groff -T$dev exited $?" >>"$tmp/groff.err"
	done
	if [ -s "$tmp/groff.err" ]; then
		bad "$page renders without warnings"
		sed 's/^/# /' "$tmp/groff.err"
	else
		ok "$page renders without warnings"
	fi
done

# 2. hotsoakd: every long option of its usage.
tags "$src/daemon/hotsoakd.8" >"$tmp/hotsoakd.tags"
"$top_builddir/hotsoakd" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u \
    >"$tmp/hotsoakd.opts"
expect_in "$tmp/hotsoakd.opts" "$tmp/hotsoakd.tags" "option of hotsoakd --help" \
    hotsoakd.8

# 3. hotsoak: every command, every global option, and every long option of
# each command's own usage. The server is one nobody listens on, so a
# command that did reach for it would fail fast.
tags "$src/daemon/hotsoak.1" >"$tmp/hotsoak.tags"
"$top_builddir/hotsoak" --help >"$tmp/hotsoak.help" 2>&1
awk '/^commands:/ { on = 1; next } on && /^$/ { exit }
    on && /^  [a-z]/ { print $1 }' "$tmp/hotsoak.help" | sort -u \
    >"$tmp/hotsoak.cmds"
heads "$src/daemon/hotsoak.1" COMMANDS first >"$tmp/hotsoak.heads"
expect_in "$tmp/hotsoak.cmds" "$tmp/hotsoak.heads" "command of hotsoak --help" \
    hotsoak.1
grep -o -- '--[a-z][a-z-]*' "$tmp/hotsoak.help" | sort -u >"$tmp/hotsoak.opts"
expect_in "$tmp/hotsoak.opts" "$tmp/hotsoak.tags" "option of hotsoak --help" \
    hotsoak.1
: >"$tmp/cmd.opts"
limit=
command -v timeout >/dev/null 2>&1 && limit="timeout 20"
for cmd in $(cat "$tmp/hotsoak.cmds"); do
	HOTSOAK_SERVER=http://127.0.0.1:9 HOTSOAK_TIMEOUT=2s \
	    $limit "$top_builddir/hotsoak" "$cmd" --help </dev/null 2>&1 |
	    grep -o -- '--[a-z][a-z-]*' >>"$tmp/cmd.opts"
done
sort -u "$tmp/cmd.opts" -o "$tmp/cmd.opts"
expect_in "$tmp/cmd.opts" "$tmp/hotsoak.tags" "option of hotsoak COMMAND --help" \
    hotsoak.1

# 4. hotsoak-agent: every long option of its usage.
tags "$src/agent/hotsoak-agent.8" >"$tmp/agent.tags"
"$top_builddir/hotsoak-agent" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' |
    sort -u >"$tmp/agent.opts"
expect_in "$tmp/agent.opts" "$tmp/agent.tags" "option of hotsoak-agent --help" \
    hotsoak-agent.8

# 5. hotsoak-plan: the parser's own tables.
plan5=$src/plans/hotsoak-plan.5
words "$plan5" >"$tmp/plan.words"
# The keys of one `static const struct field NAME[] = { ... };` table.
fields() {
	awk -v t="$2" '$0 ~ "struct field " t "\\[\\] = \\{" { on = 1; next }
	    on && /^};/ { exit }
	    on && match($0, /\{ "[a-z_]+",/) {
		print substr($0, RSTART + 3, RLENGTH - 5) }' "$1"
}
fields "$src/daemon/plan-plan.c" plan_fields | sort -u >"$tmp/top.keys"
heads "$plan5" "PLAN FILES" >"$tmp/plan.heads"
expect_in "$tmp/top.keys" "$tmp/plan.heads" "top-level plan key" hotsoak-plan.5
fields "$src/daemon/plan-campaign.c" campaign_fields | sort -u >"$tmp/camp.keys"
heads "$plan5" "CAMPAIGN FILES" first >"$tmp/camp.heads"
expect_in "$tmp/camp.keys" "$tmp/camp.heads" "campaign key" hotsoak-plan.5
# Step actions: the .name of each entry in step.c's step_table.
for entry in $(sed -n '/step_table\[\] = {/,/^};/s/^[[:space:]]*&\(step_[a-z_]*\),.*/\1/p' \
    "$src/daemon/step.c"); do
	cat "$src"/daemon/step-*.c | awk -v e="$entry" \
	    '$0 ~ "struct step_entry " e " = \\{" { on = 1 }
	    on && match($0, /\.name = "[a-z_]+"/) {
		print substr($0, RSTART + 9, RLENGTH - 10); exit }'
done | sort -u >"$tmp/steps"
n=$(sed -n '/step_table\[\] = {/,/^};/p' "$src/daemon/step.c" | grep -c '&step_')
if [ "$n" -ne "$(wc -l <"$tmp/steps")" ]; then
	bad "step_table has $n entries, but $(wc -l <"$tmp/steps" | tr -d ' ') names were found"
fi
heads "$plan5" STEPS first >"$tmp/steps.heads"
expect_in "$tmp/steps" "$tmp/steps.heads" "step action" hotsoak-plan.5
grep -o '\[FINDING_[A-Z_]*\] = { "[a-z_]*"' "$src/daemon/finding.c" |
    sed 's/.*"\(.*\)"/\1/' | sort -u >"$tmp/kinds"
heads "$plan5" "FINDINGS AND VERDICTS" first >"$tmp/kinds.heads"
expect_in "$tmp/kinds" "$tmp/kinds.heads" "finding kind" hotsoak-plan.5
grep -o '{ "@[a-z]*",' "$src/daemon/cron.c" | sed 's/.*"\(.*\)".*/\1/' |
    sort -u >"$tmp/shortcuts"
heads "$plan5" SCHEDULES >"$tmp/cron.heads"
expect_in "$tmp/shortcuts" "$tmp/cron.heads" "cron @-shortcut" hotsoak-plan.5
# Every key of every other table: named somewhere on the page.
cat "$src"/daemon/plan-*.c "$src"/daemon/step-*.c |
    grep -o '{ "[a-z_]*", FIELD_' | sed 's/{ "\(.*\)".*/\1/' | sort -u \
    >"$tmp/all.keys"
expect_in "$tmp/all.keys" "$tmp/plan.words" "plan key" hotsoak-plan.5

# 6. The unit, as built: paths in full, and systemd-analyze verify accepts
# it (ExecStart pointed at the built hotsoakd, since verify wants it there).
unit=$top_builddir/daemon/hotsoakd.service
if [ ! -f "$unit" ]; then
	bad "daemon/hotsoakd.service was not built"
else
	if grep -n '@[a-z_]*@\|\${prefix}\|\${exec_prefix}' "$unit" >"$tmp/left"; then
		bad "hotsoakd.service has unexpanded paths: $(cat "$tmp/left")"
	else
		ok "hotsoakd.service has every path in full"
	fi
	if grep -q '^ExecStart=/[^ ]*/hotsoakd --foreground ' "$unit"; then
		ok "hotsoakd.service starts hotsoakd --foreground"
	else
		bad "hotsoakd.service: ExecStart is not an absolute hotsoakd --foreground"
	fi
	if ! command -v systemd-analyze >/dev/null 2>&1; then
		skip "systemd-analyze verify hotsoakd.service" "no systemd-analyze"
	else
		sed "s|^ExecStart=[^ ]*|ExecStart=$top_builddir/hotsoakd|" "$unit" \
		    >"$tmp/hotsoakd.service"
		if systemd-analyze verify --man=no "$tmp/hotsoakd.service" \
		    >"$tmp/verify.out" 2>&1 && ! grep -q 'hotsoakd.service' \
		    "$tmp/verify.out"; then
			ok "systemd-analyze verify hotsoakd.service"
		else
			bad "systemd-analyze verify hotsoakd.service"
			sed 's/^/# /' "$tmp/verify.out"
		fi
	fi
fi

# 7. make install DESTDIR=... of this build tree.
inst=$tmp/inst
if ! make -C "$top_builddir" install DESTDIR="$inst" >"$tmp/install.log" 2>&1; then
	bad "make install DESTDIR=..."
	tail -n 20 "$tmp/install.log" | sed 's/^/# /'
else
	for page in $pages; do
		name=$(basename "$page")
		sec=${name##*.}
		if [ -n "$(find "$inst" -path "*/man$sec/$name" -type f)" ]; then
			ok "make install puts $name in man$sec"
		else
			bad "make install puts $name in man$sec"
		fi
	done
	installed=$(find "$inst" -name hotsoakd.service -type f)
	if grep -q '^systemdsystemunitdir = no$' "$top_builddir/Makefile"; then
		if [ -z "$installed" ]; then
			ok "make install puts no unit in place (--with-systemdsystemunitdir=no)"
		else
			bad "make install put $installed despite --with-systemdsystemunitdir=no"
		fi
	elif [ -z "$installed" ]; then
		bad "make install puts hotsoakd.service in place"
	else
		exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$installed")
		if [ -x "$inst$exe" ]; then
			ok "make install puts hotsoakd.service in place, starting the installed $exe"
		else
			bad "the installed hotsoakd.service starts $exe, which make install did not put there"
		fi
	fi
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
