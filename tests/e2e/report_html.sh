#!/bin/sh
# report_html.sh - every report as HTML on the sample night, rendered in
# headless Chromium: each file is self-contained (nothing fetched, no
# script), loads without console errors, has its charts in the DOM as SVG
# with their bars, and prints to PDF.  Skips, saying so, when Chromium is
# not installed or cannot start in this sandbox.
set -eu
T=report_html
. "$ROOT/tests/e2e/lib/common.sh"

browser=""
for b in chromium chromium-browser google-chrome; do
	if command -v "$b" >/dev/null 2>&1; then
		browser=$b
		break
	fi
done
if [ -z "$browser" ]; then
	echo "SKIP: $T: no chromium (scripts/deps.sh installs it)"
	exit 0
fi
HOME=$PWD
export HOME
chrome() { # ARGS...: headless, no sandbox (we run as root in a container)
	timeout 90 "$browser" --headless --disable-gpu --no-sandbox \
		--user-data-dir="$PWD/profile" --no-first-run --disable-extensions \
		--enable-logging=stderr --v=0 "$@"
}
if ! chrome --dump-dom about:blank >blank.dom 2>blank.err || ! grep -q "<html" blank.dom; then
	echo "SKIP: $T: $browser cannot start here: $(tail -n 3 blank.err)"
	exit 0
fi

sh "$ROOT/samples/demo.sh" demo >demo.out 2>demo.err || fail "demo failed: $(cat demo.err)"
CLEARBOOK_DB=$PWD/demo/clearbook.db
export CLEARBOOK_DB

# report name, then the charts it must show
for spec in "trial-balance:daily_volume" "balance-sheet:" "income-statement:" \
	"statement assets:bank:icbc:cny:daily_turnover" \
	"reconciliation:match_rate break_ageing" "settlement:daily_volume" \
	"aml:alerts_by_rule" "chargebacks:chargeback_ratio disputes_by_stage"; do
	name=${spec%:*}
	charts=${spec##*:}
	file=$(echo "$name" | tr ' :' '__').html
	# shellcheck disable=SC2086
	expect_exit 0 report $name --from 2026-11-23 --to 2026-11-25 --format html \
		--detail --out "$file"
	# Self-contained: no script, nothing fetched; the only URL is SVG's
	# namespace.
	! grep -qi "<script" "$file" || fail "$file has a script"
	urls=$(grep -oE '(src|href)=|https?://[^"]*' "$file" | grep -v '^http://www.w3.org/2000/svg$' || true)
	[ -z "$urls" ] || fail "$file refers outside itself: $urls"
	chrome --dump-dom "$file" >dom.html 2>chrome.err || fail "$browser failed on $file: $(tail -n 5 chrome.err)"
	grep -q "<h1>" dom.html || fail "$file: nothing rendered"
	if grep -E "CONSOLE|Uncaught|Failed to load|ERR_FILE" chrome.err | grep -v dbus >errs; then
		[ ! -s errs ] || fail "$file: browser errors: $(cat errs)"
	fi
	for c in $charts; do
		grep -q "<svg[^>]*data-chart=\"$c\"" dom.html || fail "$file: chart $c missing from the DOM"
		bars=$(awk -v c="$c" '/<svg/ { inside = index($0, "data-chart=\"" c "\"") > 0 }
			inside && /<rect class="bar"/ { n++ } /<\/svg>/ { inside = 0 } END { print n + 0 }' dom.html)
		[ "$bars" -gt 0 ] || fail "$file: chart $c has no bars"
	done
	[ -n "$charts" ] || ! grep -q "<svg" dom.html || fail "$file: unexpected chart"
	rm -f dom.html chrome.err errs
done
# The reconciliation chart has one bar per channel, the ageing chart four.
chrome --dump-dom reconciliation.html >dom.html 2>/dev/null
n=$(grep -c '<rect class="bar"' dom.html)
[ "$n" -eq 11 ] || fail "reconciliation: $n bars, expected 7 channels + 4 age buckets"
# The chargeback ratio is drawn against the scheme's threshold: a line per
# bar, in the DOM as the browser built it.
chrome --dump-dom chargebacks.html >dom.html 2>/dev/null
awk '/<svg/ { inside = index($0, "data-chart=\"chargeback_ratio\"") > 0 }
	inside && /<line class="threshold"/ { n++ } /<\/svg>/ { inside = 0 } END { exit n > 0 ? 0 : 1 }' dom.html ||
	fail "chargebacks: the ratio chart draws no threshold"
grep -q '<title>threshold self mastercard: 1.50</title>' dom.html ||
	fail "chargebacks: the Mastercard threshold (1.50%) is not on the chart"
# Printable: Chromium prints it to a PDF.
chrome --print-to-pdf="$PWD/settlement.pdf" settlement.html >/dev/null 2>&1 ||
	fail "printing settlement.html failed"
head -c 5 settlement.pdf | grep -q '%PDF-' || fail "settlement.pdf is not a PDF"
