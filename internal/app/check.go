package app

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"globex/exchange"
	"globex/exchange/ledger"
	"globex/internal/config"
	"globex/internal/fsx"
)

// Finding is one line of `globex check`: a problem (OK false) or a fact.
type Finding struct {
	OK   bool
	Text string
}

// Check inspects the environment of a loaded configuration: folders exist and
// are writable, renames stay on one volume, nothing is stuck. It never
// changes anything but a probe file that it removes again.
func Check(cfg *config.Config) []Finding {
	var out []Finding
	bad := func(format string, a ...any) { out = append(out, Finding{false, fmt.Sprintf(format, a...)}) }
	good := func(format string, a ...any) { out = append(out, Finding{true, fmt.Sprintf(format, a...)}) }

	checkWritable := func(what, dir string, create bool) bool {
		if create {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				bad("%s %s cannot be created: %v", what, dir, plainErr(err))
				return false
			}
		}
		st, err := os.Stat(dir)
		if err != nil {
			bad("%s %s does not exist or cannot be opened (%v): create it or correct the path in %s", what, dir, plainErr(err), cfg.Path)
			return false
		}
		if !st.IsDir() {
			bad("%s %s is not a folder", what, dir)
			return false
		}
		if err := fsx.WriteFile(filepath.Join(dir, ".globex-check"), 0o644, true, func(w io.Writer) error { return nil }); err != nil {
			bad("%s %s is not writable for this user (%v): give the account running globex write permission", what, dir, plainErr(err))
			return false
		}
		os.Remove(filepath.Join(dir, ".globex-check"))
		free, ok := freeSpace(dir)
		if ok && free < 64<<20 {
			bad("%s %s has only %d MB free: outputs will wait until there is room", what, dir, free>>20)
			return false
		}
		if ok {
			good("%s %s exists and is writable (%d MB free)", what, dir, free>>20)
		} else {
			good("%s %s exists and is writable", what, dir)
		}
		return true
	}
	instance := ""
	if checkWritable("state_dir", cfg.StateDir, true) {
		if l, err := ledger.Open(cfg.StateDir); err != nil {
			if errors.Is(err, ledger.ErrLocked) {
				good("state_dir %s is in use by a running globex (that is fine while the daemon runs)", cfg.StateDir)
			} else {
				bad("the ledger in %s cannot be opened: %v", cfg.StateDir, err)
			}
		} else {
			instance = l.Instance()
			reportLedger(l, cfg, &out)
			l.Close()
		}
	}
	checkWritable("archive_dir", cfg.ArchiveDir, true)
	for i := range cfg.Exchanges {
		ex := &cfg.Exchanges[i]
		pre := fmt.Sprintf("exchange %q: ", ex.Name)
		if ex.Source.SFTP == nil {
			if checkWritable(pre+"source folder", ex.Source.Dir, false) {
				if !sameVolume(ex.Source.Dir, cfg.ArchiveDir) {
					good("%sthe source folder and archive_dir are on different volumes: archiving copies each file and then removes it (safe, a little slower)", pre)
				}
				if others := otherInstances(ex.Source.Dir, instance); len(others) > 0 && ex.Kind == config.KindOrders {
					bad("%sanother globex installation (instance %s, with its own state folder) also takes files from %s: each order number is sent once per installation, so two installations sending to one ERP must not share an orders drop folder", pre, strings.Join(others, ", "), ex.Source.Dir)
				}
				stuck := stuckClaims(ex.Source.Dir)
				if stuck > 0 {
					bad("%s%d file(s) are claimed in %s but not finished: they are retried by the running daemon; if none runs, start `globex once`", pre, stuck, filepath.Join(ex.Source.Dir, exchange.ClaimDir))
				}
			}
		} else {
			out = append(out, checkSFTP(cfg, ex, pre+"source", ex.Source.SFTP)...)
		}
		if ex.Target.SFTP == nil {
			checkWritable(pre+"target folder", ex.Target.Dir, false)
		} else {
			out = append(out, checkSFTP(cfg, ex, pre+"target", ex.Target.SFTP)...)
		}
		if !available[ex.Kind] {
			bad("%skind %q is not available in this build yet", pre, ex.Kind)
		}
	}
	return out
}

var available = map[string]bool{config.KindOrders: true, config.KindStock: true, config.KindItems: true,
	config.KindPrices: true, config.KindCustomers: true}

func reportLedger(l *ledger.Ledger, cfg *config.Config, out *[]Finding) {
	for i := range cfg.Exchanges {
		ex := &cfg.Exchanges[i]
		var waiting []string
		_ = l.Inputs(ex.Name, func(in *ledger.Input) error {
			if in.State != ledger.StateDone && time.Since(in.UpdatedAt) > time.Minute {
				waiting = append(waiting, fmt.Sprintf("%s (since %s)", in.Name, in.UpdatedAt.Local().Format("2006-01-02 15:04")))
			}
			return nil
		})
		if len(waiting) > 0 {
			*out = append(*out, Finding{false, fmt.Sprintf("exchange %q: %d input(s) are not finished: %s; the log says why (usually the target is full, read-only or unreachable)",
				ex.Name, len(waiting), strings.Join(waiting[:min(len(waiting), 5)], ", "))})
		}
	}
}

// otherInstances lists the claim folders of other globex installations in a
// drop folder.
func otherInstances(dir, self string) []string {
	if self == "" {
		return nil
	}
	var out []string
	ents, _ := os.ReadDir(filepath.Join(dir, exchange.ClaimDir))
	for _, e := range ents {
		if e.IsDir() && e.Name() != self {
			out = append(out, e.Name())
		}
	}
	return out
}

func stuckClaims(dir string) int {
	n := 0
	files, _ := filepath.Glob(filepath.Join(dir, exchange.ClaimDir, "*", "*", "*"))
	for _, f := range files {
		if info, err := os.Stat(f); err == nil && info.Mode().IsRegular() && time.Since(info.ModTime()) > time.Minute {
			n++
		}
	}
	return n
}

func plainErr(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
