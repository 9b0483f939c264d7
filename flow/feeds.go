package flow

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"globex/exchange"
	"globex/exchange/ledger"
	"globex/internal/crashpoint"
	"globex/internal/fsx"
	"globex/mapping/feed"
)

// BadInput is an error of the input itself (a truncated export, a bad row):
// the file is quarantined and the published feed stays as it was.
type BadInput struct {
	Problems []string
	Advice   string
}

func (b *BadInput) Error() string { return strings.Join(b.Problems, "; ") }

// Producer streams the feed records of one input export.
type Producer interface {
	// Produce reads the export from in and hands every record, all with
	// administration admin, to sink: first sink.Begin with the CSV map
	// columns when they are known before the first record (nil: they are
	// learned from the data), then sink.Emit per record. Bad input is a
	// *BadInput; any other error is an environment problem.
	Produce(ctx context.Context, in io.Reader, name, admin string, sink Sink) (summary string, err error)
}

// Sink receives the records of a Producer.
type Sink interface {
	Begin(cols *feed.Columns) error
	Emit(rec feed.Record) error
	// Idle is work for a goroutine that waits for a parser (the input's
	// checksum, in steps); it returns false when there is no more.
	Idle() bool
}

// IdleUser is a Producer that calls Sink.Idle while it waits for its parser;
// for the others the checksum is computed in a goroutine of its own.
type IdleUser interface{ UsesIdle() bool }

// ParallelSink is a Sink whose records go unchanged to several writers: a
// producer that can (stock) writes to each in its own goroutine. Writers
// returns nil when records must go through Emit.
type ParallelSink interface {
	Sink
	Writers() []feed.Writer
}

type funcSink struct {
	begin   func(*feed.Columns) error
	emit    func(feed.Record) error
	writers func() []feed.Writer
	idle    func() bool
	tempDir string
}

// TempDir is the run's work folder, where a producer may put temporary
// files (removed with the folder when a run is cut short).
func (f funcSink) TempDir() string { return f.tempDir }

func (f funcSink) Idle() bool {
	if f.idle == nil {
		return false
	}
	return f.idle()
}

func (f funcSink) Begin(c *feed.Columns) error { return f.begin(c) }
func (f funcSink) Emit(r feed.Record) error    { return f.emit(r) }
func (f funcSink) Writers() []feed.Writer      { return f.writers() }

// Feed turns Globe exports into the feed files of CONTRACT §5 in the target:
// a full snapshot (`<base>.jsonl`, `.csv`, optional `.xlsx`) replaced
// atomically, and a delta against the last published snapshot
// (`<base>-delta-<YYYYMMDDTHHMMSS>.jsonl`, UTC). A bad export changes nothing.
//
// With several administrations (Administrations), each administration's
// latest export is kept as a part under StateDir and the published snapshot
// is the concatenation of all parts.
type Feed struct {
	Exchange        string
	Kind            feed.Kind
	Administration  string
	Administrations map[string]string // file pattern → administration
	Formats         []string
	StateDir        string // this exchange's own folder in state_dir
	Target          exchange.Target
	Archive         *exchange.Archive
	Ledger          *ledger.Ledger
	Producer        Producer
	// Published is called after a snapshot was published (e.g. to refresh
	// an index of it).
	Published func(snapshot string)
}

// SnapshotPath is where the last published snapshot of an exchange is kept in
// its state folder (the base of deltas and of order checks).
func SnapshotPath(stateDir string) string { return filepath.Join(stateDir, "published.jsonl") }

func (h *Feed) base() string { return string(h.Kind) }

func (h *Feed) adminFor(name string) (string, bool) {
	if len(h.Administrations) == 0 {
		return h.Administration, true
	}
	pats := make([]string, 0, len(h.Administrations))
	for p := range h.Administrations {
		pats = append(pats, p)
	}
	sort.Strings(pats)
	for _, p := range pats {
		if ok, _ := filepath.Match(strings.ToLower(p), strings.ToLower(name)); ok {
			return h.Administrations[p], true
		}
	}
	return "", false
}

// Handle implements exchange.Handler.
func (h *Feed) Handle(ctx context.Context, job *exchange.Job) (exchange.Outcome, error) {
	admin, ok := h.adminFor(job.Input.Name)
	if !ok {
		return exchange.Outcome{Disposition: ledger.OutcomeFailed, Summary: "unknown administration",
			Problems: []string{fmt.Sprintf("The file name %q matches none of the feed.administrations patterns of this exchange, so its administration is unknown.", job.Input.Name)},
			Advice:   "Rename the export so that it matches a pattern, or add a pattern to the configuration, and put it back."}, nil
	}
	work := filepath.Join(h.StateDir, "work")
	partsDir := filepath.Join(h.StateDir, "parts")
	// Work files are hard-linked into the target and the archive once
	// published: a leftover of an interrupted run must be unlinked, never
	// truncated in place.
	if err := os.RemoveAll(work); err != nil {
		return exchange.Outcome{}, &exchange.Transient{Err: err}
	}
	for _, d := range []string{work, partsDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return exchange.Outcome{}, &exchange.Transient{Err: err}
		}
	}
	multi := len(h.Administrations) > 0
	var known *feed.Columns
	// single: one administration with its columns known before the first
	// record, so every output is written in pass 1; otherwise the columns
	// are learned from the records (and the outputs written in pass 2).
	single := false

	// Pass 1: the records of this export, checked for duplicate keys. In the
	// common case (one administration, columns known) every output is
	// written in this one pass.
	part := filepath.Join(work, "part.jsonl")
	outs := &outputs{dir: work, base: h.base(), kind: h.Kind}
	defer outs.cleanup()
	partW, err := outs.create(part)
	if err != nil {
		return exchange.Outcome{}, &exchange.Transient{Err: err}
	}
	// The part's index finds duplicate keys without holding the keys in
	// memory; with one administration the part is the snapshot.
	partJ := newIndexedJSONL(partW, feed.NewIndexBuilder(work))
	partJ.sum = multi // a kept part's columns file names its checksum
	writers := []feed.Writer{partJ}
	var cols feed.Columns
	// Prices and customers learn their columns, a group at the end of the
	// row: with one administration their CSV is written in this pass too,
	// and padded to the most groups at the end (no second reading).
	var trailing *feed.TrailingCSV
	defer func() {
		if trailing != nil {
			trailing.Remove()
		}
	}()
	begin := func(c *feed.Columns) error {
		known = c
		if !multi && c != nil {
			single = true
			return h.openFinal(outs, *c, h.Formats, &writers)
		}
		if !multi && feed.TrailingGroups(h.Kind) && slices.Contains(h.Formats, "csv") {
			t, err := feed.NewTrailingCSV(h.Kind, work)
			if err != nil {
				return &exchange.Transient{Err: err}
			}
			trailing = t
			writers = append(writers, t)
		}
		return nil
	}
	emit := func(rec feed.Record) error {
		if !single {
			cols.Learn(rec)
		}
		for _, w := range writers {
			if err := w.Write(rec); err != nil {
				return err
			}
		}
		return nil
	}
	parallel := func() []feed.Writer {
		if !single {
			return nil
		}
		return writers
	}
	content, err := job.Open()
	if err != nil {
		return exchange.Outcome{}, &exchange.Transient{Err: err}
	}
	var idle func() bool
	if iu, ok := h.Producer.(IdleUser); ok && iu.UsesIdle() && job.Hash != nil {
		idle = job.Hash.Step
	} else if job.Hash != nil {
		job.Hash.Start()
	}
	summary, err := h.Producer.Produce(ctx, content, job.Input.Name, admin, funcSink{begin, emit, parallel, idle, work})
	content.Close()
	if err == nil {
		err = fanout(writers).Close()
	}
	job.Log.Debug().Msg("records written")
	partIdx := filepath.Join(work, "part.idx")
	if err == nil {
		// The written files reach the disk while the index is merged.
		synced := make(chan error, 1)
		go func() { synced <- outs.syncAll() }()
		err = partJ.builder.Finish(h.Kind, partIdx)
		job.Log.Debug().Msg("index merged")
		if serr := <-synced; err == nil {
			err = serr
		}
	}
	crashpoint.Hit("feed-written")
	if out, done := refusal(err); done {
		return out, nil
	}
	if err != nil {
		return exchange.Outcome{}, &exchange.Transient{Err: fmt.Errorf("writing the feed: %w", err)}
	}
	count := int(partJ.builder.Count())
	snapIdx := partIdx
	job.Log.Debug().Int("records", count).Str("summary", summary).Msg("export read and written")

	var ownCols feed.Columns // the columns of this administration's part
	// Pass 2, with columns learned from the data (prices: quantity breaks,
	// customers: addresses) or several administrations. With one
	// administration the part is the snapshot, indexed as it was written:
	// only the CSV and XLSX are written from it now. Several
	// administrations make the snapshot anew from the parts.
	switch {
	case single:
		outs.files[h.base()+".jsonl"] = part
	case !multi: // (known columns would have made it single)
		writers = nil
		formats := h.Formats
		if trailing != nil {
			f, err := outs.create(filepath.Join(work, h.base()+".csv"))
			if err != nil {
				return exchange.Outcome{}, &exchange.Transient{Err: err}
			}
			if err := trailing.WriteCSV(outs.syncBehind(f)); err != nil {
				return exchange.Outcome{}, &exchange.Transient{Err: fmt.Errorf("writing the CSV: %w", err)}
			}
			trailing.Remove() // its disk space back before the XLSX and the delta
			trailing = nil
			formats = slices.DeleteFunc(slices.Clone(formats), func(f string) bool { return f == "csv" })
		}
		if err := h.openFinal(outs, cols, formats, &writers); err != nil {
			return exchange.Outcome{}, err
		}
		if len(writers) > 0 { // XLSX: from the records
			if err := h.convertParts([]string{part}, fanout(writers)); err != nil {
				return exchange.Outcome{}, err
			}
		}
		// the CSV written from the spool too, when it is the only output
		// of this pass (LocalTarget.StageFile links the file as it is)
		if err := outs.syncAll(); err != nil {
			return exchange.Outcome{}, &exchange.Transient{Err: err}
		}
		outs.files[h.base()+".jsonl"] = part
	default:
		partFiles := []string{part}
		olds, _ := filepath.Glob(filepath.Join(partsDir, "*.jsonl"))
		sort.Strings(olds)
		for _, p := range olds {
			if strings.TrimSuffix(filepath.Base(p), ".jsonl") != fsx.SafeName(admin, 60) {
				partFiles = append(partFiles, p)
			}
		}
		ownCols = cloneColumns(cols)
		for _, p := range partFiles[1:] {
			c, err := h.keptColumns(p)
			if err != nil {
				return exchange.Outcome{}, &exchange.Transient{Err: fmt.Errorf("reading the kept part %s: %w", p, err)}
			}
			mergeColumns(&cols, c)
		}
		if known != nil {
			mergeColumns(&cols, *known)
		}
		snapW, err := outs.create(filepath.Join(work, h.base()+".jsonl"))
		if err != nil {
			return exchange.Outcome{}, &exchange.Transient{Err: err}
		}
		snapJ := newIndexedJSONL(snapW, feed.NewIndexBuilder(work))
		writers = []feed.Writer{snapJ}
		if err := h.openFinal(outs, cols, h.Formats, &writers); err != nil {
			return exchange.Outcome{}, err
		}
		if err := h.convertParts(partFiles, fanout(writers)); err != nil {
			return exchange.Outcome{}, err
		}
		snapIdx = filepath.Join(work, "snapshot.idx")
		if err := snapJ.builder.Finish(h.Kind, snapIdx); err != nil {
			if out, done := refusal(err); done {
				return out, nil
			}
			return exchange.Outcome{}, &exchange.Transient{Err: err}
		}
		count = int(snapJ.builder.Count())
		if err := outs.syncAll(); err != nil {
			return exchange.Outcome{}, &exchange.Transient{Err: err}
		}
	}

	// The delta against the last published snapshot, from the two indexes.
	if err := h.writeDelta(outs, snapIdx, uint64(count)); err != nil {
		return exchange.Outcome{}, &exchange.Transient{Err: fmt.Errorf("computing the delta: %w", err)}
	}
	job.Log.Debug().Bool("previous", outs.hadPrev).Msg("delta computed")

	// An export identical to the last one published changes nothing. (The
	// checksum is computed while the export is read, so it is asked for
	// only now.)
	sum, err := job.SHA256()
	if err != nil {
		return exchange.Outcome{}, &exchange.Transient{Err: err}
	}
	lastSum := filepath.Join(h.StateDir, "last-"+fsx.SafeName(admin, 60)+".sha256")
	// last-<admin>.sha256 holds "<checksum> <input id>" of the export the
	// feed shows; the same input resumed after a crash is not a duplicate.
	if b, err := os.ReadFile(lastSum); err == nil {
		lastSHA, lastID, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
		if lastSHA == sum && lastID != job.Input.ID {
			what := "the last export published"
			if prev, ok, _ := h.Ledger.ProcessedWithSHA(h.Exchange, sum); ok {
				what = fmt.Sprintf("%s, published on %s", prev.Name, prev.UpdatedAt.Local().Format("2006-01-02 15:04:05"))
			}
			return exchange.Outcome{Disposition: ledger.OutcomeDuplicate, Summary: "identical to the export the feed already shows",
				Problems: []string{fmt.Sprintf("This export is byte for byte the same as %s; the feed already shows it.", what)},
				Advice:   "Nothing to do."}, nil
		}
	}

	job.Log.Debug().Msg("checksum ready")
	// The outputs are complete and synced: closed now, since on Windows a
	// file still open here could not be renamed (kept as the snapshot or
	// part), nor could a link to it in the target.
	if err := outs.close(); err != nil {
		return exchange.Outcome{}, &exchange.Transient{Err: err}
	}
	// Publish: snapshots replace the old ones; the delta is new.
	now := time.Now()
	published, err := h.publish(ctx, job, outs, now)
	if err != nil {
		return exchange.Outcome{}, err
	}
	crashpoint.Hit("feed-published")
	// Keep what was published: the snapshot (base of the next delta) and,
	// with several administrations, this administration's part.
	if multi {
		if err := h.keepPart(part, filepath.Join(partsDir, fsx.SafeName(admin, 60)+".jsonl"), ownCols, partJ.crc, job); err != nil {
			return exchange.Outcome{}, &exchange.Transient{Err: err}
		}
	}
	// The old index goes first: a crash between the two renames must not
	// leave the new snapshot beside the old index (writeDelta rebuilds a
	// missing index from the snapshot).
	if err := os.Remove(indexPath(h.StateDir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return exchange.Outcome{}, &exchange.Transient{Err: err}
	}
	if err := os.Rename(outs.files[h.base()+".jsonl"], SnapshotPath(h.StateDir)); err != nil {
		return exchange.Outcome{}, &exchange.Transient{Err: err}
	}
	crashpoint.Hit("feed-snapshot-kept")
	if err := os.Rename(snapIdx, indexPath(h.StateDir)); err != nil {
		return exchange.Outcome{}, &exchange.Transient{Err: err}
	}
	// What a producer left for other exchanges (the items lookup for
	// prices) becomes visible only with the feed it belongs to.
	if _, err := os.Stat(filepath.Join(work, "lookup.tsv")); err == nil {
		if err := os.Rename(filepath.Join(work, "lookup.tsv"), LookupPath(h.StateDir, admin)); err != nil {
			return exchange.Outcome{}, &exchange.Transient{Err: err}
		}
	}
	if err := writeState(lastSum, []byte(sum+" "+job.Input.ID)); err != nil {
		return exchange.Outcome{}, &exchange.Transient{Err: err}
	}
	meta, _ := json.Marshal(PublishedMeta{Input: job.Input.Name, At: now.UTC()})
	if err := writeState(MetaPath(SnapshotPath(h.StateDir)), meta); err != nil {
		return exchange.Outcome{}, &exchange.Transient{Err: err}
	}
	fsx.SyncDir(h.StateDir)
	if h.Published != nil {
		h.Published(SnapshotPath(h.StateDir))
	}
	st := outs.deltaStats
	msg := fmt.Sprintf("%d %s records published (%d new or changed, %d deleted, %d unchanged)", count, h.Kind, st.Upserts, st.Deletes, st.Unchanged)
	if summary != "" {
		msg += "; " + summary
	}
	job.Log.Info().Str("feed", string(h.Kind)).Int("records", count).Int("upserts", st.Upserts).Int("deletes", st.Deletes).Strs("files", published).Msg("feed published")
	return exchange.Outcome{Disposition: ledger.OutcomeProcessed, Outputs: published, Summary: msg}, nil
}

func describeFields(fields []feed.KeyField) string {
	var parts []string
	for _, f := range fields {
		if f.Value != "" {
			parts = append(parts, f.Name+" "+f.Value)
		}
	}
	return strings.Join(parts, ", ")
}

func mergeColumns(c *feed.Columns, o feed.Columns) {
	add := func(set, more []string) []string {
		for _, m := range more {
			found := false
			for _, s := range set {
				if s == m {
					found = true
					break
				}
			}
			if !found {
				set = append(set, m)
			}
		}
		sort.Strings(set)
		return set
	}
	c.Languages = add(c.Languages, o.Languages)
	c.Attributes = add(c.Attributes, o.Attributes)
	c.Warehouses = add(c.Warehouses, o.Warehouses)
	c.Breaks = max(c.Breaks, o.Breaks)
	c.Addresses = max(c.Addresses, o.Addresses)
}

// openFinal adds the CSV, XLSX and delta writers.
func (h *Feed) openFinal(outs *outputs, cols feed.Columns, formats []string, writers *[]feed.Writer) error {
	for _, f := range formats {
		switch f {
		case "csv":
			w, err := outs.create(filepath.Join(outs.dir, h.base()+".csv"))
			if err != nil {
				return &exchange.Transient{Err: err}
			}
			*writers = append(*writers, feed.NewCSVWriter(outs.syncBehind(w), h.Kind, cols))
		case "xlsx":
			w, err := outs.create(filepath.Join(outs.dir, h.base()+".xlsx"))
			if err != nil {
				return &exchange.Transient{Err: err}
			}
			x, err := feed.NewXLSXWriter(w, h.Kind, cols)
			if err != nil {
				return err
			}
			*writers = append(*writers, x)
		}
	}
	return nil
}

// convertParts writes the records of the JSONL parts to fan, in order, and
// closes it.
func (h *Feed) convertParts(parts []string, fan fanout) error {
	for _, p := range parts {
		f, err := os.Open(p)
		if err != nil {
			return &exchange.Transient{Err: err}
		}
		err = feed.ConvertJSONL(h.Kind, f, fan)
		f.Close()
		if err != nil {
			return &exchange.Transient{Err: fmt.Errorf("assembling the snapshot: %w", err)}
		}
	}
	if err := fan.Close(); err != nil {
		return &exchange.Transient{Err: err}
	}
	return nil
}

// A kept part (several administrations in one feed) has its columns beside
// it, so that the next run of another administration need not parse the
// part twice (once for its columns, once for its records). The file names
// the part's size and checksum (CRC-32C, computed as the part was written,
// checked by reading the part, which costs little beside parsing it): a
// part replaced without it (a crash in between, an older globex, a part of
// the same size with other warehouses) is read for its columns instead.
type partColumns struct {
	Size    int64        `json:"size"`
	CRC32C  string       `json:"crc32c"`
	Columns feed.Columns `json:"columns"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crcString(sum uint32) string { return fmt.Sprintf("%08x", sum) }

func columnsPath(part string) string { return strings.TrimSuffix(part, ".jsonl") + ".columns.json" }

// keepPart moves this run's part to keep, with its columns beside it. The
// old columns file goes first: a crash before the new one is written leaves
// the part without one (read for its columns), never beside a stale one.
func (h *Feed) keepPart(part, keep string, cols feed.Columns, sum uint32, job *exchange.Job) error {
	cp := columnsPath(keep)
	if err := os.Remove(cp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	crashpoint.Hit("feed-part-columns-removed")
	if err := os.Rename(part, keep); err != nil {
		return err
	}
	crashpoint.Hit("feed-part-kept")
	fi, err := os.Stat(keep)
	if err == nil {
		b, _ := json.Marshal(partColumns{Size: fi.Size(), CRC32C: crcString(sum), Columns: cols})
		err = writeState(cp, b)
	}
	if err != nil { // the next run reads the part for its columns
		job.Log.Warn().Err(err).Str("file", cp).Msg("could not note the columns of the kept part; the next run reads them from the part")
	}
	// the part's rename reaches the disk before the run is recorded: after
	// a power cut the other administrations' runs must not find the part
	// before it beside a snapshot that shows this one
	return fsx.SyncDir(filepath.Dir(keep))
}

// keptColumns returns the columns of a kept part: from the file beside it
// when it matches the part (size and checksum), else read from the part.
func (h *Feed) keptColumns(part string) (feed.Columns, error) {
	f, err := os.Open(part)
	if err != nil {
		return feed.Columns{}, err
	}
	defer f.Close()
	if b, err := os.ReadFile(columnsPath(part)); err == nil {
		var pc partColumns
		if fi, err := f.Stat(); err == nil && json.Unmarshal(b, &pc) == nil && pc.Size == fi.Size() && pc.CRC32C != "" {
			c := crc32.New(castagnoli)
			if _, err := io.Copy(c, f); err != nil {
				return feed.Columns{}, err
			}
			if crcString(c.Sum32()) == pc.CRC32C {
				return pc.Columns, nil
			}
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return feed.Columns{}, err
		}
	}
	return feed.ScanColumns(h.Kind, f)
}

func cloneColumns(c feed.Columns) feed.Columns {
	c.Languages = slices.Clone(c.Languages)
	c.Attributes = slices.Clone(c.Attributes)
	c.Warehouses = slices.Clone(c.Warehouses)
	return c
}

// writeState replaces a small state file with b, durably (fsx.WriteFile).
func writeState(path string, b []byte) error {
	return fsx.WriteFile(path, 0o644, true, func(w io.Writer) error { _, err := w.Write(b); return err })
}

func indexPath(stateDir string) string { return filepath.Join(stateDir, "published.idx") }

// writeDelta merge-joins the new snapshot's index with the last published
// one. A snapshot published by an older globex without an index gets one
// first.
func (h *Feed) writeDelta(outs *outputs, snapIdx string, count uint64) error {
	prevSnap := SnapshotPath(h.StateDir)
	if _, err := os.Stat(prevSnap); err != nil {
		return nil // first run: the full snapshot says it all
	}
	prevIdx := indexPath(h.StateDir)
	if _, err := os.Stat(prevIdx); err != nil {
		f, err := os.Open(prevSnap)
		if err != nil {
			return err
		}
		b := feed.NewIndexBuilder(outs.dir)
		j := newIndexedJSONL(io.Discard, b)
		err = feed.ConvertJSONL(h.Kind, f, j)
		f.Close()
		if err != nil {
			return err
		}
		prevIdx = filepath.Join(outs.dir, "prev.idx")
		if err := b.Finish(h.Kind, prevIdx); err != nil {
			return err
		}
	}
	w, err := outs.create(filepath.Join(outs.dir, "delta.jsonl"))
	if err != nil {
		return err
	}
	st, err := feed.DeltaFromIndexes(h.Kind, prevIdx, snapIdx, outs.files[h.base()+".jsonl"], count, w)
	if err != nil {
		return err
	}
	outs.deltaStats, outs.hadPrev = st, true
	return w.Sync()
}

// refusal turns bad input found while producing into a quarantine outcome.
func refusal(err error) (exchange.Outcome, bool) {
	var bad *BadInput
	var dup *feed.DuplicateKeyError
	switch {
	case err == nil:
		return exchange.Outcome{}, false
	case errors.As(err, &bad):
		return exchange.Outcome{Disposition: ledger.OutcomeFailed, Summary: "export refused; the feed is unchanged",
			Problems: bad.Problems, Advice: bad.Advice}, true
	case errors.As(err, &dup):
		return exchange.Outcome{Disposition: ledger.OutcomeFailed, Summary: "export refused; the feed is unchanged",
			Problems: []string{fmt.Sprintf("The export holds %s twice; Globe's codes are unique, so the export is damaged or two exports were joined.", describeFields(dup.Fields))},
			Advice:   "Export again from Globe and put the new file in the drop folder; the published feed is unchanged."}, true
	case errors.Is(err, feed.ErrUnknownColumn):
		return exchange.Outcome{Disposition: ledger.OutcomeFailed, Summary: "export refused; the feed is unchanged",
			Problems: []string{err.Error()},
			Advice:   "The export holds a language, attribute or warehouse that the configuration does not list; add it to the exchange's feed: block (or remove the list to learn columns from the data) and put the file back."}, true
	}
	return exchange.Outcome{}, false
}

// indexedJSONL writes a snapshot's lines and indexes them as they go.
type indexedJSONL struct {
	w       *bufio.Writer
	builder *feed.IndexBuilder
	buf     []byte
	sync    *syncBehind
	sum     bool   // keep crc, the CRC-32C of the lines written
	crc     uint32 // (Castagnoli)
}

func newIndexedJSONL(w io.Writer, b *feed.IndexBuilder) *indexedJSONL {
	return &indexedJSONL{w: bufio.NewWriterSize(w, 256<<10), builder: b, buf: make([]byte, 0, 2048),
		sync: newSyncBehind(w)}
}

// syncEvery is how many bytes of a snapshot are written between two
// background syncs.
const syncEvery = 32 << 20

// syncBehind syncs a file in the background while it is written, so that
// the sync that makes the outputs durable at the end of a run finds most of
// the snapshot on disk already (a disk writes a snapshot of hundreds of MB
// in a good part of a second, which the run would otherwise wait for at the
// end). One sync runs at a time, each in a goroutine of its own that ends
// with it (nothing is left behind by a run that fails). A nil *syncBehind
// (the writer is no file) does nothing.
type syncBehind struct {
	f       *os.File
	written int
	wg      sync.WaitGroup
	running atomic.Bool
	mu      sync.Mutex
	err     error
}

func newSyncBehind(w io.Writer) *syncBehind {
	if f, ok := w.(*os.File); ok {
		return &syncBehind{f: f}
	}
	return nil
}

// wrote counts n bytes handed to the file, starting a sync now and then.
func (s *syncBehind) wrote(n int) {
	if s == nil {
		return
	}
	if s.written += n; s.written < syncEvery || !s.running.CompareAndSwap(false, true) {
		return
	}
	s.written = 0
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := syncFile(s.f); err != nil {
			s.mu.Lock()
			if s.err == nil {
				s.err = err
			}
			s.mu.Unlock()
		}
		s.running.Store(false)
	}()
}

// wait waits for the background sync, if any, and returns the first error
// of one (a later sync of the same file would not report it again).
func (s *syncBehind) wait() error {
	if s == nil {
		return nil
	}
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (j *indexedJSONL) Write(rec feed.Record) error {
	j.buf = rec.AppendJSON(j.buf[:0])
	if err := j.builder.Add(rec, j.buf); err != nil {
		return err
	}
	j.buf = append(j.buf, '\n')
	_, err := j.w.Write(j.buf)
	j.sync.wrote(len(j.buf))
	if j.sum {
		j.crc = crc32.Update(j.crc, castagnoli, j.buf)
	}
	return err
}

// Close flushes the lines and waits for the background sync.
func (j *indexedJSONL) Close() error {
	err := j.w.Flush()
	if serr := j.sync.wait(); err == nil {
		err = serr
	}
	return err
}

// indexedChunk is a chunk of lines with their index entries, hashed by the
// goroutine that encodes it (see feed.ChunkWriter).
type indexedChunk struct {
	b    []byte
	keys []byte
	ents []indexedEntry
	enc  feed.JSONChunkEncoder
}

type indexedEntry struct {
	kh, ch   uint64
	off, len int
}

func (c *indexedChunk) Add(rec feed.Record) error {
	start := len(c.b)
	c.b = c.enc.Append(c.b, rec) // a stock record keeps its figures' text for the CSV chunk
	off := len(c.keys)
	var kh, ch uint64
	c.keys, kh, ch = feed.RecordHashes(rec, c.b[start:], c.keys)
	c.ents = append(c.ents, indexedEntry{kh: kh, ch: ch, off: off, len: len(c.keys) - off})
	c.b = append(c.b, '\n')
	return nil
}

// NewChunk implements feed.ChunkWriter.
func (j *indexedJSONL) NewChunk() feed.Chunk {
	return &indexedChunk{b: make([]byte, 0, 64<<10)}
}

// WriteChunk implements feed.ChunkWriter.
func (j *indexedJSONL) WriteChunk(c feed.Chunk) error {
	ch := c.(*indexedChunk)
	defer func() { ch.b, ch.keys, ch.ents = ch.b[:0], ch.keys[:0], ch.ents[:0] }()
	for _, e := range ch.ents {
		if err := j.builder.AddHashed(ch.keys[e.off:e.off+e.len], e.kh, e.ch); err != nil {
			return err
		}
	}
	_, err := j.w.Write(ch.b)
	j.sync.wrote(len(ch.b))
	if j.sum {
		j.crc = crc32.Update(j.crc, castagnoli, ch.b)
	}
	return err
}

func (h *Feed) publish(ctx context.Context, job *exchange.Job, outs *outputs, now time.Time) ([]string, error) {
	var names []string
	order := []string{h.base() + ".jsonl", h.base() + ".csv", h.base() + ".xlsx"}
	for _, name := range order {
		path, ok := outs.files[name]
		if !ok {
			continue
		}
		if err := h.put(ctx, job, path, name, true, now); err != nil {
			return nil, err
		}
		crashpoint.Hit("feed-file-published")
		names = append(names, name)
	}
	st := outs.deltaStats
	if outs.hadPrev && st.Upserts+st.Deletes > 0 {
		name, err := h.publishDelta(ctx, job, outs.files["delta.jsonl"], now)
		if err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, nil
}

// publishDelta publishes the delta once per input, also when the input is
// taken up again after a crash (the state still shows the snapshot before,
// so the same delta is made again). state delta-sent notes "<input id>
// <name> pending" before the delta is published under a name that is free,
// and "<input id> <name> sent" once it is:
//   - sent for this input: it is not sent again;
//   - pending for this input: the crash came around the publication; the
//     name, free when noted, is this delta's if it is there, else the delta
//     is published under that name now;
//   - another input's note (or none): a new delta, a new name.
//
// (A consumer that took the delta away in the instant between its
// publication and the note "sent" gets it again under the same name.)
func (h *Feed) publishDelta(ctx context.Context, job *exchange.Job, path string, now time.Time) (string, error) {
	sentPath := filepath.Join(h.StateDir, "delta-sent")
	note := func(name, state string) error {
		if err := writeState(sentPath, []byte(job.Input.ID+" "+name+" "+state+"\n")); err != nil {
			return &exchange.Transient{Err: fmt.Errorf("noting the delta sent: %w", err)}
		}
		return nil
	}
	if b, err := os.ReadFile(sentPath); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 2 && f[0] == job.Input.ID {
			name := f[1]
			if len(f) == 2 || f[2] == "sent" {
				job.Log.Info().Str("delta", name).Msg("the delta of this export was published before an interruption; not sent again")
				return name, nil
			}
			there, err := h.Target.Exists(ctx, name)
			if err != nil {
				return "", err
			}
			if there {
				job.Log.Info().Str("delta", name).Msg("the delta of this export was published before an interruption; not sent again")
			} else {
				job.Log.Info().Str("delta", name).Msg("publishing the delta of this export under the name chosen before an interruption")
				err := h.put(ctx, job, path, name, false, now)
				if err != nil && !errors.Is(err, fsx.ErrExists) {
					return "", err
				}
			}
			return name, note(name, "sent")
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", &exchange.Transient{Err: fmt.Errorf("reading the note of the delta sent: %w", err)}
	}
	// Two exports in one second get -2, -3, … so no delta is lost.
	stamp := now.UTC().Format("20060102T150405")
	for i := 1; ; i++ {
		name := fmt.Sprintf("%s-delta-%s.jsonl", h.base(), stamp)
		if i > 1 {
			name = fmt.Sprintf("%s-delta-%s-%d.jsonl", h.base(), stamp, i)
		}
		if i < 100 {
			there, err := h.Target.Exists(ctx, name)
			if err != nil {
				return "", err
			}
			if there {
				continue
			}
		}
		if err := note(name, "pending"); err != nil {
			return "", err
		}
		crashpoint.Hit("feed-delta-noted")
		err := h.put(ctx, job, path, name, false, now)
		if errors.Is(err, fsx.ErrExists) && i < 100 {
			continue
		}
		if err != nil {
			return "", err
		}
		crashpoint.Hit("feed-delta-published")
		return name, note(name, "sent")
	}
}

// put publishes a local file under name in the target and keeps a copy in
// archive/sent.
func (h *Feed) put(ctx context.Context, job *exchange.Job, path, name string, replace bool, now time.Time) error {
	tmp, err := h.Target.StageFile(ctx, name, job.Input.ID, path)
	if err != nil {
		return err
	}
	if err := h.Target.Publish(ctx, tmp, name, replace); err != nil {
		_ = h.Target.Discard(ctx, tmp)
		return err // fsx.ErrExists: the caller picks another name
	}
	sent := h.Archive.SentPath(h.Exchange, name, now)
	if err := os.MkdirAll(filepath.Dir(sent), 0o755); err != nil {
		return &exchange.Transient{Err: err}
	}
	// A hard link is a free, immutable copy when the archive shares the
	// volume with the state folder; otherwise copy.
	if err := os.Link(path, sent); err != nil {
		if err := fsx.CopyFile(path, sent); err != nil {
			return &exchange.Transient{Err: fmt.Errorf("saving the sent copy of %s: %w", name, err)}
		}
	}
	return nil
}

// outputs are the files of one run in the work folder.
type outputs struct {
	dir        string
	base       string
	kind       feed.Kind
	files      map[string]string // output name → path
	open       []*os.File
	behind     []*syncBehind
	closers    []io.Closer
	deltaStats feed.DeltaStats
	hadPrev    bool
}

func (o *outputs) create(path string) (*os.File, error) {
	if o.files == nil {
		o.files = map[string]string{}
	}
	// O_EXCL: never write into an existing (possibly published) file.
	_ = os.Remove(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	o.open = append(o.open, f)
	o.files[filepath.Base(path)] = path
	return f, nil
}

// syncBehind returns a writer to f that syncs it in the background as it
// is written (see syncBehind); syncAll waits for those syncs.
func (o *outputs) syncBehind(f *os.File) io.Writer {
	s := newSyncBehind(f)
	o.behind = append(o.behind, s)
	return syncingFile{f, s}
}

type syncingFile struct {
	f *os.File
	s *syncBehind
}

func (w syncingFile) Write(b []byte) (int, error) {
	n, err := w.f.Write(b)
	w.s.wrote(n)
	return n, err
}

func (o *outputs) syncAll() error {
	for _, s := range o.behind {
		if err := s.wait(); err != nil {
			return err
		}
	}
	for _, f := range o.open {
		if err := syncFile(f); err != nil {
			return err
		}
	}
	return nil
}

// syncFile syncs an output file to the disk (a variable for tests, which
// check that every published file is synced).
var syncFile = (*os.File).Sync

// close closes the files written (and synced).
func (o *outputs) close() error {
	var first error
	for _, f := range o.open {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	o.open = nil
	return first
}

func (o *outputs) cleanup() {
	for _, f := range o.open {
		f.Close()
	}
	for _, c := range o.closers {
		c.Close()
	}
	ents, _ := os.ReadDir(o.dir)
	for _, e := range ents {
		os.Remove(filepath.Join(o.dir, e.Name()))
	}
}

type fanout []feed.Writer

func (f fanout) Write(rec feed.Record) error {
	for _, w := range f {
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	return nil
}

func (f fanout) Close() error {
	var first error
	for _, w := range f {
		if err := w.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
