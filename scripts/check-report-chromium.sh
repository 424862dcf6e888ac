#!/usr/bin/env bash
# check-report-chromium.sh — renders a `loom report` page in headless Chromium and checks that its script
# ran: no script error, the root marked ready, every smoothed curve redrawn, the redrawn curves at the
# default weight equal to the ones Loom drew (within 0.1 px: JavaScript's toFixed and C's printf may
# round a tie differently), and, opened at `#smoothing=0.9`, equal to an exponential moving average
# computed here in Python from the points the page carries (within 0.06 px: the page rounds to 0.1 px).
# Then it takes a screenshot to look at.
#
#   scripts/check-report-chromium.sh REPORT.html [SCREENSHOT.png]
#
# Needs chromium (Debian: apt-get install chromium) and python3. Exit status: 0 checked, 1 a check failed,
# 2 chromium or the report is missing. CHROMIUM=/path/to/chrome picks another browser binary.
set -euo pipefail

usage() { echo "usage: $0 REPORT.html [SCREENSHOT.png]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
report=$1
screenshot=${2:-}
[ -f "$report" ] || { echo "check-report-chromium: no report at $report" >&2; exit 2; }
browser=${CHROMIUM:-}
if [ -z "$browser" ]; then
    for name in chromium chromium-browser google-chrome; do
        if command -v "$name" >/dev/null 2>&1; then browser=$(command -v "$name"); break; fi
    done
fi
[ -n "$browser" ] || { echo "check-report-chromium: chromium is not installed (Debian: apt-get install chromium)" >&2; exit 2; }
command -v python3 >/dev/null 2>&1 || { echo "check-report-chromium: python3 is needed" >&2; exit 2; }

url="file://$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-extensions --mute-audio
       --user-data-dir="$work/profile" --virtual-time-budget=5000 --enable-logging=stderr --v=0)

# Chromium writes its own chatter to stderr; the page's console errors appear there as `CONSOLE` lines.
"$browser" "${flags[@]}" --dump-dom "$url" >"$work/default.html" 2>"$work/default.log" || true
"$browser" "${flags[@]}" --dump-dom "$url#smoothing=0.9" >"$work/smooth.html" 2>"$work/smooth.log" || true

python3 - "$report" "$work/default.html" "$work/smooth.html" "$work/default.log" "$work/smooth.log" <<'PY'
import json, re, sys
from html.parser import HTMLParser

class Page(HTMLParser):
    """The root's attributes, every SVG's scales and every smoothed polyline with its chart."""
    def __init__(self):
        super().__init__()
        self.root, self.charts, self.lines, self.controls = {}, [], [], []
    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.root = attrs
        elif tag == "svg" and "data-y-map" in attrs:
            self.charts.append(attrs)
        elif tag == "polyline" and "smoothed" in attrs.get("class", "").split():
            self.lines.append((len(self.charts) - 1, attrs))
        elif tag == "div" and "smoothing-control" in attrs.get("class", "").split():
            self.controls.append(attrs)
    handle_startendtag = handle_starttag

def parse(path):
    page = Page()
    with open(path, encoding="utf-8") as handle:
        page.feed(handle.read())
    return page

def points(text):
    return [tuple(float(v) for v in pair.split(",")) for pair in text.split()]

def scale(spec):
    (lower, upper), (start, end) = spec["domain"], spec["range"]
    if spec["kind"] == "log":
        import math
        low, high = math.log10(lower), math.log10(upper)
        return lambda v: start + (math.log10(max(v, 2.2250738585072014e-308)) - low) / (high - low) * (end - start)
    return lambda v: start + (v - lower) / (upper - lower) * (end - start)

def ema(values, weight):
    """The debiased EMA written as the weighted average it equals: sum w^(i-j) x_j / sum w^(i-j)."""
    out = []
    for i in range(len(values)):
        weights = [weight ** (i - j) for j in range(i + 1)]
        out.append(sum(w * x for w, x in zip(weights, values)) / sum(weights))
    return out

failures = []
def check(condition, message):
    if not condition:
        failures.append(message)

source, default, smooth = (parse(p) for p in sys.argv[1:4])
for path in sys.argv[4:6]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if "CONSOLE" in line and ("Uncaught" in line or "Error" in line):
                failures.append("console error: " + line.strip())

check(source.lines, "the report has no smoothed curves to check (no train/loss series?)")
for name, page, weight in (("default", default, "0.60"), ("#smoothing=0.9", smooth, "0.90")):
    check(page.root.get("data-script") == "ready", f"{name}: the script did not finish (data-script={page.root.get('data-script')!r})")
    check("data-script-error" not in page.root, f"{name}: script error: {page.root.get('data-script-error')}")
    check(page.root.get("data-smoothing") == weight, f"{name}: smoothing {page.root.get('data-smoothing')!r}, expected {weight}")
    check(page.root.get("data-redrawn") == str(len(source.lines)),
          f"{name}: {page.root.get('data-redrawn')} curves redrawn, the page has {len(source.lines)}")
    check(all("hidden" not in c for c in page.controls) and page.controls, f"{name}: the smoothing slider is not shown")
    check(len(page.lines) == len(source.lines), f"{name}: {len(page.lines)} smoothed curves in the DOM, {len(source.lines)} in the file")

for (chart, drawn), (_, redrawn) in zip(source.lines, default.lines):
    a, b = points(drawn["points"]), points(redrawn["points"])
    worst = max((abs(p - q) for u, v in zip(a, b) for p, q in zip(u, v)), default=0)
    check(len(a) == len(b) and worst <= 0.1 + 1e-9,
          f"{drawn.get('data-series')}: redrawn at 0.6 differs from Loom's curve by {worst:.2f} px ({len(a)} vs {len(b)} points)")

for chart_index, line in smooth.lines:
    chart = smooth.charts[chart_index]
    x, y = scale(json.loads(chart["data-x-map"])), scale(json.loads(chart["data-y-map"]))
    data = json.loads(line["data-points"])
    expected = [(x(px), y(py)) for (px, _), py in zip(data, ema([p[1] for p in data], 0.9))]
    got = points(line["points"])
    worst = max((abs(p - q) for u, v in zip(expected, got) for p, q in zip(u, v)), default=0)
    check(len(got) == len(expected) and worst <= 0.06,
          f"{line.get('data-series')}: at 0.9 the page drew {worst:.3f} px away from the EMA computed here")

if failures:
    print("check-report-chromium: FAILED", file=sys.stderr)
    for failure in failures:
        print("  " + failure, file=sys.stderr)
    sys.exit(1)
print(f"check-report-chromium: script ran; {len(source.lines)} smoothed curves redrawn at 0.60 and 0.90 as computed")
PY

if [ -n "$screenshot" ]; then
    "$browser" "${flags[@]}" --hide-scrollbars --window-size=1280,4000 --screenshot="$screenshot" "$url" >"$work/shot.log" 2>&1 || true
    [ -s "$screenshot" ] || { echo "check-report-chromium: no screenshot written to $screenshot" >&2; cat "$work/shot.log" >&2; exit 1; }
    echo "check-report-chromium: screenshot $screenshot"
fi
