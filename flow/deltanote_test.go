package flow

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"globex/exchange"
	"globex/exchange/ledger"
	"globex/mapping/feed"
)

// The delta of one input is published once, whatever the note delta-sent
// says after a crash: sent (or the older "<id> <name>"): not again;
// pending under a name that is there: not again; pending under a name that
// is not there (the crash came before the publication, or the consumer
// took it): published under that name; another input's note: a new name,
// past the names taken.
func TestDeltaPublishedOnce(t *testing.T) {
	now := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	stamp := "stock-delta-20261127T060000"
	cases := []struct {
		name, note string
		there      []string // delta names in the target before
		want       string   // the name returned
		published  bool     // whether the delta was written there now
		wantNote   string
	}{
		{"sent", "ID1 " + stamp + ".jsonl sent", []string{stamp + ".jsonl"}, stamp + ".jsonl", false, "ID1 " + stamp + ".jsonl sent"},
		{"older note", "ID1 " + stamp + ".jsonl", nil, stamp + ".jsonl", false, "ID1 " + stamp + ".jsonl"},
		{"pending, there", "ID1 " + stamp + "-2.jsonl pending", []string{stamp + ".jsonl", stamp + "-2.jsonl"}, stamp + "-2.jsonl", false, "ID1 " + stamp + "-2.jsonl sent"},
		{"pending, not there", "ID1 " + stamp + "-2.jsonl pending", []string{stamp + ".jsonl"}, stamp + "-2.jsonl", true, "ID1 " + stamp + "-2.jsonl sent"},
		{"another input", "ID0 " + stamp + ".jsonl sent", []string{stamp + ".jsonl"}, stamp + "-2.jsonl", true, "ID1 " + stamp + "-2.jsonl sent"},
		{"no note", "", nil, stamp + ".jsonl", true, "ID1 " + stamp + ".jsonl sent"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			target, state := filepath.Join(dir, "feed"), filepath.Join(dir, "state")
			os.MkdirAll(target, 0o755)
			os.MkdirAll(state, 0o755)
			for _, n := range c.there {
				os.WriteFile(filepath.Join(target, n), []byte("before\n"), 0o644)
			}
			if c.note != "" {
				os.WriteFile(filepath.Join(state, "delta-sent"), []byte(c.note+"\n"), 0o644)
			}
			delta := filepath.Join(dir, "delta.jsonl")
			os.WriteFile(delta, []byte("this delta\n"), 0o644)
			h := &Feed{Exchange: "stock", Kind: feed.KindStock, StateDir: state, Target: &exchange.LocalTarget{Dir: target},
				Archive: &exchange.Archive{Root: filepath.Join(dir, "archive")}}
			job := &exchange.Job{Input: &ledger.Input{ID: "ID1"}, Log: zerolog.Nop()}
			got, err := h.publishDelta(context.Background(), job, delta, now)
			if err != nil || got != c.want {
				t.Fatalf("publishDelta = %q, %v; want %q", got, err, c.want)
			}
			b, err := os.ReadFile(filepath.Join(target, got))
			if c.published != (err == nil && string(b) == "this delta\n") {
				t.Errorf("published %v, the target has %q (%v)", c.published, b, err)
			}
			ents, _ := os.ReadDir(target)
			if len(ents) != len(c.there)+map[bool]int{true: 1}[c.published] {
				t.Errorf("target holds %d files", len(ents))
			}
			if b, _ := os.ReadFile(filepath.Join(state, "delta-sent")); strings.TrimSpace(string(b)) != c.wantNote {
				t.Errorf("note %q, want %q", b, c.wantNote)
			}
		})
	}
}
