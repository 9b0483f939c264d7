package flow

import (
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"globex/exchange"
	"globex/mapping/feed"
)

// A kept part's columns come from the file beside it only while that file
// names the part's size and checksum: a part replaced by one of the same
// size with another warehouse is read for its columns.
func TestKeptColumnsMatchThePart(t *testing.T) {
	dir := t.TempDir()
	h := &Feed{Kind: feed.KindStock}
	job := &exchange.Job{Log: zerolog.Nop()}
	line := `{"administration":"600","item_code":"A","warehouses":{"W6":{"on_hand":"1.5"}}}` + "\n"
	work := filepath.Join(dir, "part.jsonl")
	os.WriteFile(work, []byte(line), 0o644)
	keep := filepath.Join(dir, "600.jsonl")
	// the columns noted hold a warehouse the part has not: proof that the
	// file is read, not the part
	noted := feed.Columns{Warehouses: []string{"W6", "W9"}}
	if err := h.keepPart(work, keep, noted, crc32.Checksum([]byte(line), castagnoli), job); err != nil {
		t.Fatal(err)
	}
	c, err := h.keptColumns(keep)
	if err != nil || !slices.Equal(c.Warehouses, noted.Warehouses) {
		t.Fatalf("matching columns file: %v %v", c, err)
	}
	// the same size, another warehouse
	os.WriteFile(keep, []byte(strings.Replace(line, "W6", "W7", 1)), 0o644)
	c, err = h.keptColumns(keep)
	if err != nil || !slices.Equal(c.Warehouses, []string{"W7"}) {
		t.Fatalf("replaced part: %v %v", c, err)
	}
	// a columns file without a checksum (the first globex with them)
	os.WriteFile(columnsPath(keep), []byte(`{"size":`+strconv.Itoa(len(line))+`,"columns":{"Warehouses":["W7","W9"]}}`), 0o644)
	if c, _ = h.keptColumns(keep); !slices.Equal(c.Warehouses, []string{"W7"}) {
		t.Fatalf("columns file without a checksum trusted: %v", c)
	}
}
