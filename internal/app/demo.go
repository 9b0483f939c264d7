package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rs/zerolog"

	"globex/internal/config"
	"globex/samples"
)

const demoMarker = ".globex-demo"

const demoConfig = `# A globex demo workspace, made by "globex demo". Every key is explained in README.md.
state_dir: state            # the ledger: what was received and sent, the proof behind "exactly once"
archive_dir: archive        # what operators open: processed/, failed/ (+ .error.txt), duplicates/, sent/
log_file: logs/globex.jsonl # JSON lines; people read the console
exchanges:
  - name: webshop-orders
    kind: orders
    administration: "500"
    source:
      dir: drop/orders      # the webshop drops its order files here
      stable_for: 200ms     # a file written in place must hold still this long
    target:
      dir: erp/import       # Globe's XML import folder
    orders:
      order_number_field: description
      resource_number: 10002
      delivery_methods: {postnl: PNL, dpd: DPD}
      units: {pcs: stk}

  # Globe exports in, webshop feeds out (full snapshots and deltas)
  - name: catalogue
    kind: items
    administration: "500"
    source: {dir: drop/globe, include: ["items-*.xml"], stable_for: 200ms}
    target: {dir: webshop/feeds}
    formats: [jsonl, csv, xlsx]
    feed:
      languages: {1: nl, 2: en, 3: de}   # MultiDescription number -> language
  - name: prices
    kind: prices
    administration: "500"
    source: {dir: drop/globe, include: ["itemprices-*.xml"], stable_for: 200ms}
    target: {dir: webshop/feeds}
    feed: {items_exchange: catalogue}     # costs and group codes for net prices
  - name: customers
    kind: customers
    administration: "500"
    source: {dir: drop/globe, include: ["accounts-*.xml"], stable_for: 200ms}
    target: {dir: webshop/feeds}
  - name: stock
    kind: stock
    administration: "500"
    source: {dir: drop/globe, include: ["voorraad-*.csv"], stable_for: 200ms}
    target: {dir: webshop/feeds}
    feed:
      low_stock_threshold: "10"
      subtract_orders_from: [webshop-orders]
`

// Demo builds a workspace in dir from the bundled samples, runs it once and
// prints what it produced and where.
func Demo(ctx context.Context, dir string, out io.Writer) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if ents, err := os.ReadDir(abs); err == nil && len(ents) > 0 {
		if _, err := os.Stat(filepath.Join(abs, demoMarker)); err != nil {
			return fmt.Errorf("%s exists and is not an earlier demo workspace; name an empty or new folder", abs)
		}
		if err := os.RemoveAll(abs); err != nil {
			return fmt.Errorf("cannot clear the earlier demo in %s: %w", abs, err)
		}
	}
	for _, d := range []string{"drop/orders", "drop/globe", "erp/import", "webshop/feeds"} {
		if err := os.MkdirAll(filepath.Join(abs, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(abs, demoMarker), []byte("made by globex demo\n"), 0o644); err != nil {
		return err
	}
	cfgPath := filepath.Join(abs, "globex.yaml")
	if err := os.WriteFile(cfgPath, []byte(demoConfig), 0o644); err != nil {
		return err
	}
	var copied []string
	err = fs.WalkDir(samples.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(p, "/") {
			return err
		}
		b, err := fs.ReadFile(samples.FS, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(abs, "drop", p)
		if strings.HasPrefix(p, "exports/") {
			dst = filepath.Join(abs, "drop", "globe", filepath.Base(p))
		}
		rel, _ := filepath.Rel(abs, dst)
		copied = append(copied, rel)
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		return fmt.Errorf("copying samples: %w", err)
	}
	fmt.Fprintf(out, "globex demo workspace: %s\n\nInput files placed in the drop folders:\n", abs)
	for _, c := range copied {
		fmt.Fprintf(out, "  %s\n", c)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	a, err := Open(cfg, zerolog.Nop(), false)
	if err != nil {
		return err
	}
	code := a.Once(ctx)
	a.Close()
	if code == ExitRuntime {
		return errors.New("the demo run hit a runtime error; see " + cfg.LogFile)
	}
	fmt.Fprintf(out, "\nGlobe import XML written to erp/import/ (what Globe's XML import picks up):\n")
	listDir(out, filepath.Join(abs, "erp/import"), abs)
	fmt.Fprintf(out, "\nWebshop feeds written to webshop/feeds/ (full snapshots; later runs add deltas):\n")
	listDir(out, filepath.Join(abs, "webshop/feeds"), abs)
	fmt.Fprintf(out, "\nThe archive (every input in exactly one place; failed and duplicate files explain themselves):\n")
	listDir(out, filepath.Join(abs, "archive"), abs)
	fmt.Fprintf(out, "\nWhy files were refused (first lines of each .error.txt):\n")
	_ = filepath.WalkDir(filepath.Join(abs, "archive"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".error.txt") {
			rel, _ := filepath.Rel(abs, p)
			fmt.Fprintf(out, "  %s\n", rel)
			printProblemsOf(out, p)
		}
		return nil
	})
	prog := commandAsTyped(os.Args[0])
	fmt.Fprintf(out, "\nNext steps:\n  %s check -c %s\n  %s run -c %s    (then drop more files into %s or %s)\n",
		prog, cfgPath, prog, cfgPath, filepath.Join(abs, "drop", "orders"), filepath.Join(abs, "drop", "globe"))
	return nil
}

// commandAsTyped is the program as it was typed (bin/globex after make
// demo), so that the Next steps can be pasted: a path relative to the
// current folder, which keeps "./" when the program is there (a bare name
// is looked up in PATH), or the name alone when it was found in PATH.
func commandAsTyped(arg0 string) string {
	if !strings.ContainsAny(arg0, `/\`) {
		return arg0
	}
	rel, err := filepath.Rel(".", arg0)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return arg0
	}
	if !strings.ContainsRune(rel, filepath.Separator) {
		rel = "." + string(filepath.Separator) + rel
	}
	return rel
}

func listDir(out io.Writer, dir, base string) {
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(base, p)
			files = append(files, rel)
		}
		return nil
	})
	sort.Strings(files)
	if len(files) == 0 {
		fmt.Fprintln(out, "  (none)")
	}
	for _, f := range files {
		fmt.Fprintf(out, "  %s\n", f)
	}
}

func printProblemsOf(out io.Writer, path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	n := 0
	for sc.Scan() && n < 6 {
		line := sc.Text()
		if strings.HasPrefix(line, "What was wrong") {
			in = true
			continue
		}
		if in {
			if strings.TrimSpace(line) == "" {
				break
			}
			fmt.Fprintf(out, "    %s\n", strings.TrimSpace(line))
			n++
		}
	}
}
