#!/usr/bin/env bash
# Reproducible benchmarks for docs/BENCHMARKS.md. Usage: scripts/bench.sh [orders|sftp|items|feeds|go|all]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
what=${1:-all}
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(go version | cut -d' ' -f3)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
go build -trimpath -o bin/globex ./cmd/globex

if [ "$what" = orders ] || [ "$what" = all ]; then
  echo; echo "== order path: globex run on real folders (bench/orderbench)"
  go run ./bench/orderbench -globex bin/globex -latency "${LATENCY_N:-200}" -files "${FILES_N:-10000}"
fi
if [ "$what" = sftp ] || [ "$what" = all ]; then
  echo; echo "== SFTP: 1,000 order files from an OpenSSH drop on loopback to Globe XML"
  GLOBEX_SFTP_BENCH_FILES=${SFTP_FILES_N:-1000} go test -count=1 -run TestSFTPOrdersThroughput -v ./internal/app/ | grep -E 'files/s|FAIL'
  echo; echo "== SFTP: 300 MB download, globex (pkg/sftp) against OpenSSH's sftp client, same server"
  GLOBEX_SFTP_BENCH_MB=${SFTP_MB:-300} go test -count=1 -run TestThroughputVsOpenSSH -v ./exchange/sftpfs/ | grep -E 'MiB/s|ratio|FAIL'
fi
if [ "$what" = items ] || [ "$what" = all ]; then
  echo; echo "== Globe exports to feeds: globex against xsltproc and Python lxml (bench/items/run.sh)"
  bench/items/run.sh
fi
if [ "$what" = feeds ] || [ "$what" = all ]; then
  echo; echo "== prices and customers, several administrations (bench/feeds/run.sh)"
  bench/feeds/run.sh
fi
if [ "$what" = go ] || [ "$what" = all ]; then
  echo; echo "== Go benchmarks"
  go test -run '^$' -bench . -benchmem -count 1 ./mapping/order/ ./mapping/globexml/ ./exchange/ledger/ 2>/dev/null | grep -E '^(Benchmark|ok)'
fi
