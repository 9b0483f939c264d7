#!/usr/bin/env bash
# Items benchmark: globex (Go) against xsltproc and a Python lxml.iterparse
# script on a generated Globe Items export, catalogue feed out (JSONL + CSV).
#
#   bench/items/run.sh                 # 300,000 items (about 645 MB), 2M-row stock CSV
#   ITEMS=20000 STOCK_ROWS=0 bench/items/run.sh
#   SIZE=300MB bench/items/run.sh      # items until the export is 300 MB
#
# Peers (not installed by this script): apt-get install xsltproc python3-lxml.
# A missing peer is reported and skipped. Inputs and outputs go to a
# temporary directory (TMPDIR), removed at the end unless KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=$PATH:/usr/local/go/bin
ITEMS=${ITEMS:-300000}
SIZE=${SIZE:-}
STOCK_ROWS=${STOCK_ROWS:-2000000}
work=$(mktemp -d "${TMPDIR:-/tmp}/itemsbench.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
bin=$work/bin
mkdir -p "$bin"

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(go version | cut -d' ' -f3)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)   load: $(cut -d' ' -f1-3 /proc/loadavg)"
go build -trimpath -o "$bin/" ./bench/peerbench ./bench/items/gen ./bench/items/gofeed ./bench/items/stdxml
go build -trimpath -o "$bin/globex" ./cmd/globex 2>/dev/null || true

if [ -n "$SIZE" ]; then gen_args=(-size "$SIZE"); else gen_args=(-items "$ITEMS"); fi
"$bin/gen" "${gen_args[@]}" -o "$work/items.xml" -varied "$work/items-1pct.xml" -vary-every 100 -stock-rows "$STOCK_ROWS" -stock "$work/stock.csv"
bytes=$(stat -c %s "$work/items.xml")

results=$work/results.txt
: > "$results"
# bench LABEL OUTDIR CMD...: run CMD under peerbench with output in OUTDIR.
bench() {
  local label=$1 out=$2; shift 2
  rm -rf "$out"; mkdir -p "$out"
  if "$bin/peerbench" -label "$label" -o "$results" -- "$@" > "$out.log" 2>&1; then
    echo "  $label: $(tail -1 "$results")"
  else
    echo "  $label: FAILED (exit $?): $(head -c 400 "$out.log")"
    sed -i '$d' "$results" 2>/dev/null || true
    echo "peerbench label=$label exit=1 wall_s=NaN maxrss_mb=NaN" >> "$results"
  fi
}

echo "contenders:"
bench gofeed "$work/gofeed" "$bin/gofeed" -in "$work/items.xml" -out "$work/gofeed" -admin 500

# globex once with an items exchange, when the binary supports it.
if [ -x "$bin/globex" ]; then
  g=$work/globex
  rm -rf "$g"; mkdir -p "$g/drop" "$g/feed" "$g/state" "$g/archive"
  cat > "$g/globex.yaml" <<YAML
state_dir: $g/state
archive_dir: $g/archive
exchanges:
  - name: catalogue
    kind: items
    administration: "500"
    source: {dir: $g/drop, stable_for: 1ms, max_size: 8GB}
    target: {dir: $g/feed}
    feed:
      languages: {1: nl, 2: de, 3: fr, 4: en}
      attributes:
        - {field: text, number: 1, name: brand}
        - {field: yesno, number: 1, name: webshop}
YAML
  if "$bin/globex" check -c "$g/globex.yaml" > "$g/check.log" 2>&1; then
    ln "$work/items.xml" "$g/drop/items.xml" 2>/dev/null || cp "$work/items.xml" "$g/drop/items.xml"
    if "$bin/peerbench" -label globex-once -o "$results" -- "$bin/globex" once -c "$g/globex.yaml" > "$g/once.log" 2>&1 &&
       [ -s "$g/feed/catalogue.jsonl" ]; then
      echo "  globex-once: $(tail -1 "$results")"
      mkdir -p "$work/globex-full" && cp "$g/feed/catalogue.csv" "$g/feed/catalogue.jsonl" "$work/globex-full/"
      # the same export with 1% of the items changed: a delta run
      ln "$work/items-1pct.xml" "$g/drop/items-1pct.xml" 2>/dev/null || cp "$work/items-1pct.xml" "$g/drop/items-1pct.xml"
      if "$bin/peerbench" -label globex-delta -o "$results" -- "$bin/globex" once -c "$g/globex.yaml" > "$g/delta.log" 2>&1; then
        echo "  globex-delta: $(tail -1 "$results") ($(cat "$g"/feed/catalogue-delta-*.jsonl | wc -l) delta lines)"
      fi
    else
      echo "  globex-once: did not produce feed/catalogue.jsonl: $(tail -3 "$g/once.log" | head -c 400)"
      grep -q 'label=globex-once' "$results" && sed -i '$d' "$results"
    fi
  else
    echo "  globex-once: skipped, bin/globex does not accept an items exchange yet: $(head -1 "$g/check.log" | head -c 300)"
  fi
fi

bench encoding/xml "$work/stdxml" "$bin/stdxml" "$work/items.xml"

# the stock feed: globex once with a stock exchange on the generated CSV
if [ "$STOCK_ROWS" -gt 0 ] && [ -x "$bin/globex" ]; then
  s=$work/stockrun
  mkdir -p "$s/drop" "$s/feed"
  cat > "$s/globex.yaml" <<YAML
state_dir: $s/state
archive_dir: $s/archive
exchanges:
  - name: stock
    kind: stock
    administration: "500"
    source: {dir: $s/drop, stable_for: 1ms, max_size: 8GB}
    target: {dir: $s/feed}
    feed: {low_stock_threshold: "10"}
YAML
  stockres=$work/stock-results.txt stockok=$work/stock-ok.txt
  : > "$stockres"; : > "$stockok"
  # The machine's noise is large: several runs, each on a fresh state, and
  # their minimum and median. Each starts with the disk idle (the items runs
  # before leave gigabytes being written back).
  for run in $(seq "${STOCK_RUNS:-5}"); do
    rm -rf "$s/state" "$s/archive" "$s/feed" "$s/drop" && mkdir -p "$s/drop" "$s/feed"
    sync
    ln "$work/stock.csv" "$s/drop/stock.csv" 2>/dev/null || cp "$work/stock.csv" "$s/drop/stock.csv"
    if "$bin/peerbench" -label globex-stock -o "$stockres" -- "$bin/globex" once -c "$s/globex.yaml" > "$s/once.log" 2>&1 && [ -s "$s/feed/stock.jsonl" ]; then
      tail -1 "$stockres" >> "$stockok" # failed runs stay out of the summary
      echo "  globex-stock run $run ($STOCK_ROWS rows to stock.jsonl + stock.csv): $(tail -1 "$stockres") ($(wc -l < "$s/feed/stock.jsonl") items)"
    else
      echo "  globex-stock run $run: FAILED: $(tail -3 "$s/once.log" | head -c 400)"
    fi
  done
  walls=$(grep -o 'wall_s=[0-9.]*' "$stockok" | cut -d= -f2 | sort -n || true)
  n=$(echo "$walls" | grep -c . || true)
  if [ "$n" -gt 0 ]; then
    rss=$(grep -o 'maxrss_mb=[0-9.]*' "$stockok" | cut -d= -f2 | sort -n | tail -1)
    echo "  globex-stock over $n runs: min $(echo "$walls" | head -1) s, median $(echo "$walls" | sed -n "$(( (n + 1) / 2 ))p") s, max $(echo "$walls" | tail -1) s, peak RSS $rss MB"
  fi
fi

py=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" > /dev/null && "$p" -c 'import lxml' 2> /dev/null; then py=$p; break; fi
done
if [ -n "$py" ]; then
  bench lxml "$work/lxml" "$py" bench/items/catalogue_lxml.py "$work/items.xml" "$work/lxml" 500
else
  echo "  lxml: skipped (no python3 with lxml: apt-get install python3-lxml)"
fi
if command -v xsltproc > /dev/null; then
  mkdir -p "$work/xsltproc"
  bench xsltproc "$work/xsltproc" sh -c "xsltproc --stringparam admin 500 bench/items/catalogue.xsl '$work/items.xml' > '$work/xsltproc/catalogue.csv'"
else
  echo "  xsltproc: skipped (apt-get install xsltproc)"
fi

echo
echo "same output as gofeed:"
for d in lxml xsltproc globex-full; do
  for f in catalogue.csv catalogue.jsonl; do
    [ -f "$work/$d/$f" ] || continue
    if cmp -s "$work/gofeed/$f" "$work/$d/$f"; then echo "  $d/$f: identical"; else echo "  $d/$f: DIFFERS"; fi
  done
done

echo
printf "items export: %d bytes (%.1f MB)\n" "$bytes" "$(echo "$bytes / 1000000" | bc -l)"
awk -v bytes="$bytes" '
  { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    n++; label[n] = v["label"]; wall[n] = v["wall_s"]; rss[n] = v["maxrss_mb"]
    if (v["label"] == "lxml") base = v["wall_s"] }
  END {
    printf "%-14s %9s %12s %9s %14s\n", "contender", "wall s", "peak RSS MB", "MB/s", "vs lxml"
    for (i = 1; i <= n; i++) {
      sp = (base > 0 && wall[i] > 0) ? sprintf("%.1fx", base / wall[i]) : "-"
      mbs = (wall[i] > 0) ? sprintf("%.0f", bytes / 1e6 / wall[i]) : "-"
      printf "%-14s %9s %12s %9s %14s\n", label[i], wall[i], rss[i], mbs, sp
    }
  }' "$results"
