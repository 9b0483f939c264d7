#!/usr/bin/env bash
# Feed runs beside the items benchmark (docs/BENCHMARKS.md, "Prices and
# customers; several administrations in one feed"):
#   - a 200,000-price ItemPrices export (the first ItemPrice of
#     samples/exports/itemprices-500.xml repeated with new item codes),
#     globex once with formats [jsonl, csv] and [jsonl, csv, xlsx];
#   - one stock feed for two administrations (bench/items/gen, 400,000 rows
#     each, the copy with 600 as administration): the second
#     administration's run, which assembles the feed from both.
# Each case RUNS times (default 3) on a fresh state, under bench/peerbench.
#   bench/feeds/run.sh            PRICES=50000 STOCK_ROWS=100000 RUNS=1 bench/feeds/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=$PATH:/usr/local/go/bin
PRICES=${PRICES:-200000}
STOCK_ROWS=${STOCK_ROWS:-400000}
RUNS=${RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/feedsbench.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
bin=$work/bin
mkdir -p "$bin"
echo "machine: $(nproc) cores, $(uname -sr), $(go version | cut -d' ' -f3)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)   load: $(cut -d' ' -f1-3 /proc/loadavg)"
go build -trimpath -o "$bin/" ./cmd/globex ./bench/peerbench ./bench/items/gen

# the prices export: the sample's first ItemPrice, PRICES times
awk -v n="$PRICES" '
  /<ItemPrices>/ { head = 1; print; next }
  !head { print; next }
  /<ItemPrice>/ && !done { grab = 1 }
  grab { blk = blk $0 "\n" }
  /<\/ItemPrice>/ && grab { grab = 0; done = 1 }
  END {
    for (i = 0; i < n; i++) { b = blk; gsub(/BT-M8X40/, sprintf("ART-%06d", i), b); printf "%s", b }
    print "</ItemPrices></eExact>"
  }' samples/exports/itemprices-500.xml > "$work/prices.xml"
echo "prices export: $PRICES prices, $(stat -c %s "$work/prices.xml") bytes"

results=$work/results.txt
: > "$results"
# once LABEL DIR: one globex once of the exchange in DIR/globex.yaml
once() {
  "$bin/peerbench" -label "$1" -o "$results" -- "$bin/globex" once -c "$2/globex.yaml" > "$2/once.log" 2>&1 ||
    { echo "  $1: FAILED: $(tail -3 "$2/once.log" | head -c 400)"; return 1; }
  echo "  $1: $(tail -1 "$results" | grep -o 'wall_s=[^ ]* maxrss_mb=[^ ]* user_s=[^ ]* sys_s=[^ ]*')"
}

for formats in "jsonl, csv" "jsonl, csv, xlsx"; do
  label="prices [$formats]"
  for run in $(seq "$RUNS"); do
    d=$work/prices
    rm -rf "$d"; mkdir -p "$d/drop" "$d/feed"
    cat > "$d/globex.yaml" <<YAML
state_dir: $d/state
archive_dir: $d/archive
exchanges:
  - name: prices
    kind: prices
    administration: "500"
    source: {dir: $d/drop, stable_for: 1ms, max_size: 8GB}
    target: {dir: $d/feed}
    formats: [$formats]
YAML
    ln "$work/prices.xml" "$d/drop/prices.xml"
    sync
    once "$label run $run" "$d"
  done
done

"$bin/gen" -items 10 -o "$work/x.xml" -stock-rows "$STOCK_ROWS" -stock "$work/s500.csv" > /dev/null
sed 's/^500;/600;/' "$work/s500.csv" > "$work/s600.csv"
for run in $(seq "$RUNS"); do
  d=$work/admins
  rm -rf "$d"; mkdir -p "$d/drop" "$d/feed"
  cat > "$d/globex.yaml" <<YAML
state_dir: $d/state
archive_dir: $d/archive
exchanges:
  - name: stock
    kind: stock
    source: {dir: $d/drop, stable_for: 1ms, max_size: 8GB}
    target: {dir: $d/feed}
    feed:
      low_stock_threshold: "10"
      administrations: {"s500*": "500", "s600*": "600"}
YAML
  cp "$work/s500.csv" "$d/drop/"
  "$bin/globex" once -c "$d/globex.yaml" > /dev/null 2>&1
  cp "$work/s600.csv" "$d/drop/"
  sync
  once "stock, 2 administrations of $STOCK_ROWS rows, the second one's run $run" "$d"
done
