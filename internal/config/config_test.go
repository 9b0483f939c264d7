package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const good = `
state_dir: st
exchanges:
  - name: webshop-orders
    kind: orders
    administration: "500"
    source:
      dir: drop/orders
    target:
      dir: D:\globe\import
    orders:
      delivery_methods: {DPD: "DPD", PostNL: "PNL"}
`

func TestParseDefaultsAndPaths(t *testing.T) {
	c, err := Parse([]byte(good), "/etc/globex")
	if err != nil {
		t.Fatal(err)
	}
	if c.StateDir != filepath.Join("/etc/globex", "st") || c.ArchiveDir != filepath.Join("/etc/globex", "archive") {
		t.Errorf("dirs: %q %q", c.StateDir, c.ArchiveDir)
	}
	ex := c.Exchanges[0]
	if ex.Source.Dir != filepath.Join("/etc/globex", "drop/orders") {
		t.Errorf("source dir %q", ex.Source.Dir)
	}
	if ex.Target.Dir != `D:\globe\import` {
		t.Errorf("windows path was resolved: %q", ex.Target.Dir)
	}
	if strings.Join(ex.Source.Include, ",") != "*.json,*.csv,*.xlsx" || ex.Source.StableFor != time.Second {
		t.Errorf("defaults: %v %v", ex.Source.Include, ex.Source.StableFor)
	}
	if ex.Orders.DeliveryMethods["PostNL"] != "PNL" || ex.Orders.OrderNumberField != "description" {
		t.Errorf("orders: %+v", ex.Orders)
	}
}

func TestUnknownKeyNamesKeyAndLine(t *testing.T) {
	_, err := Parse([]byte("state_dir: x\nexchanges:\n  - name: a\n    kind: orders\n    sorce:\n      dir: x\n"), "/")
	if err == nil || !strings.Contains(err.Error(), `unknown key "sorce"`) || !strings.Contains(err.Error(), "line 5") {
		t.Fatalf("got %v", err)
	}
}

func TestValidationSentences(t *testing.T) {
	_, err := Parse([]byte(`
exchanges:
  - name: Bad_Name
    kind: order
    source: {dir: a, include: ["a/*.json"]}
  - name: x
    kind: stock
    source: {sftp: {host: h, user: u, key_file: k}}
    target: {dir: b}
`), "/")
	if err == nil {
		t.Fatal("expected problems")
	}
	for _, want := range []string{"lower-case", `kind "order"`, "target needs", "not a valid file name pattern", "known_hosts is required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestByteSize(t *testing.T) {
	c, err := Parse([]byte("exchanges:\n  - name: a\n    kind: stock\n    source: {dir: a, max_size: 2MB}\n    target: {dir: b}\n"), "/")
	if err != nil {
		t.Fatal(err)
	}
	if c.Exchanges[0].Source.MaxSize != 2<<20 {
		t.Errorf("max_size %d", c.Exchanges[0].Source.MaxSize)
	}
}
