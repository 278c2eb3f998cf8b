#!/bin/sh
# run.sh TARGET SECONDS DICT SEED-DIR...: runs a libFuzzer target for SECONDS
# over a scratch copy of the seed corpus (the tree is never written), and
# fails on any crash, leak, timeout or out-of-memory.
set -eu
target=$1 seconds=$2 dict=$3
shift 3
work=$(mktemp -d "${TMPDIR:-/tmp}/hotsoak-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/corpus" "$work/artifacts"
for dir in "$@"; do
	find "$dir" -type f \( -name '*.yaml' -o -name '*.yml' \) \
	    -size -64k -exec cp {} "$work/corpus/" \;
done
echo "fuzzing $target for ${seconds}s from $(ls "$work/corpus" | wc -l) seeds"
# -timeout: one input over 5s is a hang; -rss_limit_mb: the loader's limits
# must keep it small whatever the input; leaks are on by default.
if ! "$target" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=512 \
    -max_len=65536 -dict="$dict" -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" 2>"$work/log"; then
	tail -60 "$work/log"
	for f in "$work/artifacts"/*; do
		[ -f "$f" ] || continue
		echo "reproducer $(basename "$f") (base64):"
		base64 "$f" | head -40
	done
	exit 1
fi
grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$work/log" || true
echo "fuzz: no crash, leak or timeout in ${seconds}s"
