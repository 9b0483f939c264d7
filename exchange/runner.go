package exchange

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"globex/exchange/ledger"
	"globex/internal/crashpoint"
	"globex/internal/fsx"
)

// Job is one claimed input handed to a Handler.
type Job struct {
	Exchange string
	Input    *ledger.Input
	Path     string // local file with the content
	Log      zerolog.Logger
	// Open returns the content.
	Open func() (io.ReadCloser, error)
	// SHA256 returns the input's checksum (hex), waiting for it if needed.
	SHA256 func() (string, error)
	// Hash lets the handler choose when the checksum is computed.
	Hash *ContentHash

	turn *turn
}

// Outcome is what a Handler decided about an input.
type Outcome struct {
	// Disposition is ledger.OutcomeProcessed, OutcomeFailed or OutcomeDuplicate.
	Disposition string
	// Problems are one plain sentence each: what was wrong and where.
	Problems []string
	// Advice says what a person should do next.
	Advice string
	// Outputs are the files written to the target.
	Outputs []string
	// Summary is one line for the log.
	Summary string
	// Commit, when set, adds the handler's own ledger records to the
	// transaction that records this outcome (one fsync instead of several).
	Commit func(*ledger.Tx) error
}

// Handler turns one input into outputs. Bad input is an Outcome (failed or
// duplicate), never an error; an error means the environment stopped the work
// (see Transient) and the input is kept and retried. A Handler must be
// idempotent for one Input.ID: after a crash it is called again with the same
// input and must finish, not repeat, what it had started.
type Handler interface {
	Handle(ctx context.Context, job *Job) (Outcome, error)
}

// Runner drives one exchange: scan, readiness, claim, ledger, handler,
// archive.
type Runner struct {
	Exchange string
	Source   Source
	Handler  Handler
	Ledger   *ledger.Ledger
	Archive  *Archive
	Log      zerolog.Logger
	Ready    Readiness
	MaxSize  int64
	// ScanInterval is the period of full listings (events only add wake-ups).
	ScanInterval time.Duration
	// Stat returns the current size and time of a listed file, for event hints.
	Stat func(name string) (int64, time.Time, bool)
	// Markers lists done-markers when a done suffix is configured.
	Markers func() map[string]bool
	// HintsLost reports (and resets) whether file events were dropped.
	HintsLost func() bool

	// Workers is how many files are handled at once (default 1).
	Workers int

	statsMu  sync.Mutex
	stats    Stats
	deferred map[string]string
	retry    []*Claimed
	// needRecover asks the next cycle to look for this instance's claims
	// again (a failed recovery, or a claim whose download failed).
	needRecover bool
}

// commit writes in (and the handler's records) durably.
func (r *Runner) commit(in *ledger.Input, extra func(*ledger.Tx) error) error {
	err := r.Ledger.Update(func(t *ledger.Tx) error {
		if err := t.PutInput(in); err != nil {
			return err
		}
		if extra != nil {
			return extra(t)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writing the ledger: %w", err)
	}
	return nil
}

// Flush writes records that wait for the next commit.
func (r *Runner) Flush() error { return r.Ledger.Flush() }

// Stats counts what a runner did.
type Stats struct {
	Processed, Failed, Duplicates int
	// Transient is the last environment error, if the runner is blocked by one.
	Transient error
}

func newID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%016x%s", time.Now().UnixNano(), hex.EncodeToString(b[:]))
}

// Recover reconciles the ledger with the folders after a restart: inputs whose
// archive move or source clean-up was interrupted are finished, and claimed
// files left behind are queued for processing.
func (r *Runner) Recover(ctx context.Context) error {
	r.needRecover = true // until it succeeds
	var unfinished []*ledger.Input
	err := r.Ledger.ArchivingInputs(r.Exchange, func(in *ledger.Input) error {
		unfinished = append(unfinished, in)
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading the ledger: %w", err)
	}
	claimed, err := r.Source.Recover(ctx)
	if err != nil {
		return &Transient{Err: fmt.Errorf("listing claimed files of %s: %w", r.Source.Describe(), err)}
	}
	inClaims := map[string]bool{}
	for _, c := range claimed {
		inClaims[c.ID] = true
	}
	for _, in := range unfinished {
		if inClaims[in.ID] {
			continue // the claimed file is still there: process() resumes it
		}
		// The move into the archive happened; only the source clean-up and
		// the final ledger mark may be missing.
		c := &Claimed{ID: in.ID, Name: in.Name}
		if err := r.finish(ctx, c, in); err != nil {
			r.Log.Warn().Err(err).Str("file", in.Name).Msg("clean-up of the source is still pending; will retry")
		}
	}
	if err := r.Flush(); err != nil {
		return err
	}
	queued := map[string]bool{}
	for _, c := range r.retry {
		queued[c.ID] = true
	}
	n := 0
	for _, c := range claimed {
		if !queued[c.ID] {
			r.retry = append(r.retry, c)
			n++
		}
	}
	if n > 0 {
		r.Log.Info().Int("files", n).Msg("resuming claimed files")
	}
	r.needRecover = false
	return nil
}

// Cycle does one round: retries, a listing, and every ready file. It returns
// when the round is done or ctx is cancelled between files, with the time of
// the next readiness check (zero if nothing is pending).
func (r *Runner) Cycle(ctx context.Context) (time.Time, error) {
	if r.deferred == nil {
		r.deferred = map[string]string{}
	}
	if r.needRecover {
		if err := r.Recover(ctx); err != nil {
			return time.Time{}, err
		}
	}
	for len(r.retry) > 0 {
		if ctx.Err() != nil {
			return time.Time{}, nil
		}
		c := r.retry[0]
		if err := r.process(ctx, c); err != nil {
			return time.Time{}, err
		}
		r.retry = r.retry[1:]
	}
	entries, err := r.Source.Scan(ctx)
	if err != nil {
		return time.Time{}, &Transient{Err: err}
	}
	var markers map[string]bool
	if r.Markers != nil {
		markers = r.Markers()
	}
	if r.HintsLost != nil && r.HintsLost() {
		// Some events were dropped: a file's writes may be among them, so
		// no file may pass as "renamed in" on the strength of its events.
		r.Ready.ForgetHints()
	}
	now := time.Now()
	ready, next := r.Ready.Update(entries, markers, now)
	readySet := make(map[string]bool, len(ready))
	for _, e := range ready {
		readySet[e.Name] = true
	}
	listed := make(map[string]bool, len(entries))
	for _, e := range entries {
		listed[e.Name] = true
	}
	for name := range r.deferred {
		if !listed[name] {
			delete(r.deferred, name) // gone (another process took it, or removed)
		}
	}
	for _, e := range entries {
		if readySet[e.Name] {
			continue
		}
		why := "its size and time must hold still for " + r.Ready.StableFor.String()
		if r.Ready.DoneSuffix != "" {
			why = "waiting for its done-marker " + e.Name + r.Ready.DoneSuffix
		}
		if r.deferred[e.Name] != why {
			r.deferred[e.Name] = why
			// Every new file waits briefly; say so at debug level only, so
			// the log shows decisions, not noise.
			r.Log.Debug().Str("file", e.Name).Int64("size", e.Size).Str("why", why).Msg("deferred")
		}
	}
	defer r.Flush()
	var pool *pool
	var claimErr error
	for _, e := range ready {
		if ctx.Err() != nil {
			break // stop taking files; the ones in hand are finished below
		}
		delete(r.deferred, e.Name)
		id := newID()
		c, err := r.Source.Claim(ctx, e, id)
		if err != nil {
			var tr *Transient
			if errors.As(err, &tr) {
				why := "cannot take it yet: " + err.Error()
				if r.deferred[e.Name] != why {
					r.deferred[e.Name] = why
					r.Log.Warn().Str("file", e.Name).Str("why", why).Msg("deferred")
				}
				next = earliest(next, now.Add(r.Ready.StableFor))
				// A remote claim may have moved the file already: look for
				// it among this instance's claims on the next round.
				r.needRecover = true
				continue
			}
			claimErr = err
			break
		}
		r.Ready.Forget(e.Name)
		if c == nil {
			continue // someone else took it
		}
		crashpoint.Hit("claimed")
		r.Log.Info().Str("file", e.Name).Int64("size", e.Size).Str("id", id).Msg("picked up")
		if pool == nil {
			pool = r.startPool()
		}
		if !pool.submit(c) {
			break // a worker hit an environment error: stop taking files
		}
	}
	if pool != nil {
		if err := pool.wait(); err != nil {
			return next, err
		}
	}
	return next, claimErr
}

// pool runs claimed files on Workers goroutines. Files are handed out in
// arrival order, and Job.InTurn keeps the order-sensitive part of handling
// (deciding which file an order number belongs to) in that order too.
type pool struct {
	r     *Runner
	jobs  chan *Claimed
	wg    sync.WaitGroup
	mu    sync.Mutex
	err   error
	seq   *sequencer
	count uint64
}

func (r *Runner) startPool() *pool {
	n := max(r.Workers, 1)
	p := &pool{r: r, jobs: make(chan *Claimed), seq: newSequencer()}
	for range n {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for c := range p.jobs {
				ctx, t := p.seq.context(c)
				err := r.process(ctx, c)
				t.end() // whatever happened, later files get their turn
				if err != nil {
					p.mu.Lock()
					r.retry = append(r.retry, c)
					if p.err == nil {
						p.err = err
					}
					p.mu.Unlock()
				}
			}
		}()
	}
	return p
}

func (p *pool) submit(c *Claimed) bool {
	p.mu.Lock()
	failed := p.err != nil
	if failed {
		p.r.retry = append(p.r.retry, c)
	}
	p.mu.Unlock()
	if failed {
		return false
	}
	p.count++
	p.seq.assign(c, p.count)
	p.jobs <- c
	return true
}

func (p *pool) wait() error {
	close(p.jobs)
	p.wg.Wait()
	return p.err
}

// process takes one claimed file through the handler and into the archive.
// It is safe to call again for the same claim after a crash at any point.
func (r *Runner) process(ctx context.Context, c *Claimed) error {
	// The file in hand is finished even when a stop is requested.
	ctx = context.WithoutCancel(ctx)
	in, ok, err := r.Ledger.Input(r.Exchange, c.ID)
	if err != nil {
		return fmt.Errorf("reading the ledger: %w", err)
	}
	log := r.Log.With().Str("file", c.Name).Str("id", c.ID).Logger()
	if !ok || in.State == ledger.StateReceived {
		st, err := os.Stat(c.Path)
		if err != nil {
			return &Transient{Err: fmt.Errorf("reading claimed file %s: %w", c.Path, err)}
		}
		// The handler decides when the checksum is computed (see
		// ContentHash); whatever is left is done after it.
		ch := newContentHash(c.Path)
		sha := ch.Sum
		if !ok {
			in = &ledger.Input{ID: c.ID, Exchange: r.Exchange, Name: c.Name, Size: st.Size(),
				State: ledger.StateReceived, ClaimedAt: time.Now().UTC()}
			// Written with the next commit: if it is lost in a crash, the
			// claimed file is simply received again.
			r.Ledger.Lazy(in)
			crashpoint.Hit("received")
		}
		out, err := r.handle(ctx, in, c, log, ch)
		if err == nil {
			in.SHA256, err = sha()
			if err != nil {
				err = &Transient{Err: fmt.Errorf("reading claimed file %s: %w", c.Path, err)}
			}
		}
		if err != nil {
			r.statsMu.Lock()
			r.stats.Transient = err
			r.statsMu.Unlock()
			log.Error().Err(err).Msg("waiting: the file stays claimed and is retried")
			return err
		}
		now := time.Now()
		in.State = ledger.StateArchiving
		in.Outcome = out.Disposition
		in.Outputs = out.Outputs
		in.ArchivePath = r.Archive.Place(r.Exchange, out.Disposition, c.Name, now)
		if len(out.Problems) > 0 || out.Disposition != ledger.OutcomeProcessed {
			in.Reason = r.errorText(in, c, out, now)
		}
		if err := r.commit(in, out.Commit); err != nil {
			return err
		}
		crashpoint.Hit("archiving")
		ev := log.Info()
		r.statsMu.Lock()
		r.stats.Transient = nil
		switch out.Disposition {
		case ledger.OutcomeFailed:
			ev = log.Warn().Strs("problems", firstN(out.Problems, 5))
			r.stats.Failed++
		case ledger.OutcomeDuplicate:
			r.stats.Duplicates++
		default:
			r.stats.Processed++
		}
		r.statsMu.Unlock()
		ev.Str("outcome", out.Disposition).Str("archive", in.ArchivePath).Msg(outcomeVerb(out.Disposition) + ": " + out.Summary)
	}
	// state archiving: write the explanation, move the input, clean up.
	if in.Reason != "" {
		if err := r.Archive.WriteErrorText(in.ArchivePath, in.Reason); err != nil {
			return &Transient{Err: fmt.Errorf("writing %s.error.txt: %w", in.ArchivePath, err)}
		}
		crashpoint.Hit("error-text")
	}
	if err := fsx.Move(c.Path, in.ArchivePath); err != nil && !(errors.Is(err, os.ErrNotExist) && fsx.Exists(in.ArchivePath)) {
		return &Transient{Err: fmt.Errorf("archiving %s: %w", c.Name, err)}
	}
	crashpoint.Hit("moved")
	return r.finish(ctx, c, in)
}

func (r *Runner) finish(ctx context.Context, c *Claimed, in *ledger.Input) error {
	if err := r.Source.Finish(ctx, c); err != nil {
		return &Transient{Err: fmt.Errorf("cleaning up %s at the source: %w", c.Name, err)}
	}
	in.State = ledger.StateDone
	// Written with the next commit: after a crash, Recover finds the input
	// still "archiving" with its file already in the archive, and finishes it.
	r.Ledger.Lazy(in)
	return nil
}

// handle runs the handler, turning a size violation or a panic into a
// quarantine instead of a crash.
func (r *Runner) handle(ctx context.Context, in *ledger.Input, c *Claimed, log zerolog.Logger, ch *ContentHash) (out Outcome, err error) {
	if r.MaxSize > 0 && in.Size > r.MaxSize {
		return Outcome{Disposition: ledger.OutcomeFailed, Summary: "too large",
			Problems: []string{fmt.Sprintf("The file is %s, more than the limit of %s for this exchange.", humanSize(in.Size), humanSize(r.MaxSize))},
			Advice:   "If the file is genuine, raise source.max_size for this exchange and put the file back in the drop folder; otherwise remove it."}, nil
	}
	defer func() {
		if p := recover(); p != nil {
			log.Error().Str("panic", fmt.Sprint(p)).Str("stack", string(debug.Stack())).Msg("internal error while processing")
			out = Outcome{Disposition: ledger.OutcomeFailed, Summary: "internal error",
				Problems: []string{fmt.Sprintf("globex hit an internal error on this file: %v", p)},
				Advice:   "This is a defect in globex, not necessarily in the file. Keep this file and the log, and report it."}
			err = nil
		}
	}()
	job := &Job{Exchange: r.Exchange, Input: in, Path: c.Path, Log: log, SHA256: ch.Sum, Open: ch.Open, Hash: ch, turn: turnFrom(ctx)}
	defer job.endTurn()
	return r.Handler.Handle(ctx, job)
}

func (r *Runner) errorText(in *ledger.Input, c *Claimed, out Outcome, now time.Time) string {
	var b strings.Builder
	head := map[string]string{
		ledger.OutcomeFailed:    "globex did not (fully) process this file.",
		ledger.OutcomeDuplicate: "globex did not send this file again: it was already processed.",
		ledger.OutcomeProcessed: "globex processed this file, with remarks.",
	}[out.Disposition]
	fmt.Fprintf(&b, "%s\n\n", head)
	fmt.Fprintf(&b, "File:       %s\n", c.Name)
	fmt.Fprintf(&b, "Exchange:   %s\n", r.Exchange)
	fmt.Fprintf(&b, "Source:     %s\n", r.Source.Describe())
	fmt.Fprintf(&b, "Received:   %s\n", in.ClaimedAt.Local().Format("2006-01-02 15:04:05 -07:00"))
	fmt.Fprintf(&b, "Decided:    %s\n", now.Local().Format("2006-01-02 15:04:05 -07:00"))
	fmt.Fprintf(&b, "Size:       %d bytes, SHA-256 %s\n", in.Size, in.SHA256)
	if len(out.Outputs) > 0 {
		fmt.Fprintf(&b, "Written:    %s\n", strings.Join(out.Outputs, ", "))
	}
	if len(out.Problems) > 0 {
		b.WriteString("\nWhat was wrong:\n")
		for _, p := range out.Problems {
			fmt.Fprintf(&b, "  - %s\n", p)
		}
	}
	if out.Advice != "" {
		fmt.Fprintf(&b, "\nWhat to do next:\n  %s\n", out.Advice)
	}
	return b.String()
}

func outcomeVerb(d string) string {
	switch d {
	case ledger.OutcomeFailed:
		return "quarantined"
	case ledger.OutcomeDuplicate:
		return "duplicate"
	}
	return "processed"
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// Run is the daemon loop: it processes until ctx is cancelled, finishing the
// file in hand. Environment errors are retried with exponential backoff.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.Recover(ctx); err != nil {
		r.Log.Error().Err(err).Msg("recovery failed; will retry")
	}
	wake, hints := r.Source.Wake()
	backoff := time.Duration(0)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-wake:
		case h := <-hints:
			r.hint(h)
			// coalesce a burst of events into one cycle
			for drained := false; !drained; {
				select {
				case h := <-hints:
					r.hint(h)
				default:
					drained = true
				}
			}
		}
		next, err := r.Cycle(ctx)
		wait := r.ScanInterval
		if err != nil {
			backoff = min(max(2*backoff, time.Second), time.Minute)
			wait = backoff
			r.Log.Warn().Err(err).Dur("retry_in", wait).Msg("exchange blocked; retrying")
		} else {
			backoff = 0
			if !next.IsZero() {
				wait = min(wait, max(time.Until(next), time.Millisecond))
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

func (r *Runner) hint(h Hint) {
	size, mod, ok := int64(0), time.Time{}, false
	if r.Stat != nil {
		size, mod, ok = r.Stat(h.Name)
	}
	r.Ready.Hint(h, size, mod, ok)
}

// Once processes everything pending, waiting for files to become ready up to
// patience, and returns what it did. Files still changing after that are left
// for the next run.
func (r *Runner) Once(ctx context.Context, patience time.Duration) (Stats, error) {
	if err := r.Recover(ctx); err != nil {
		return r.stats, err
	}
	deadline := time.Now().Add(patience)
	for {
		next, err := r.Cycle(ctx)
		if err != nil {
			r.stats.Transient = err
			return r.stats, err
		}
		if next.IsZero() || ctx.Err() != nil || next.After(deadline) {
			return r.stats, nil
		}
		select {
		case <-ctx.Done():
			return r.stats, nil
		case <-time.After(time.Until(next)):
		}
	}
}
