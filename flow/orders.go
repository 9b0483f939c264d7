// Package flow wires the mappings (what files mean) to the exchange runtime
// (how files move): one Handler per exchange kind.
package flow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"globex/exchange"
	"globex/exchange/ledger"
	"globex/internal/crashpoint"
	"globex/internal/fsx"
	"globex/mapping/globexml"
	"globex/mapping/order"
)

// Orders turns webshop order files into one Globe import XML file per order,
// exactly once per order number.
//
// Per order the steps are: the XML is rendered and staged under a temporary
// name in the ERP folder (fsynced); the ledger records the order as staged
// with both names; the temporary file is renamed to its final name and the
// folder fsynced; a copy goes to archive/sent. After a crash a staged order
// whose temporary file still exists is published; one whose temporary file is
// gone was published already and is never written again, even if the ERP has
// since taken the file away.
type Orders struct {
	Exchange       string
	Administration string
	Target         exchange.Target
	TargetDesc     string
	Ledger         *ledger.Ledger
	Archive        *exchange.Archive
	XML            globexml.Options
	AllOrNothing   bool
	ParseOptions   order.Options
	// Check, when set, refuses orders for items or debtors the ERP's own
	// exports do not know or have blocked.
	Check *ERPCheck

	mu   sync.Mutex
	busy map[string]chan struct{} // order numbers being handled by a file
}

// reserve marks numbers as being handled by the calling file, waiting for
// another file that handles one of them to finish. Called in turn (arrival
// order), so an order number always goes to the file that arrived first.
func (h *Orders) reserve(numbers []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.busy == nil {
		h.busy = map[string]chan struct{}{}
	}
	for _, n := range numbers {
		for {
			ch, ok := h.busy[n]
			if !ok {
				break
			}
			h.mu.Unlock()
			<-ch
			h.mu.Lock()
		}
		h.busy[n] = make(chan struct{})
	}
}

func (h *Orders) release(numbers []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range numbers {
		if ch, ok := h.busy[n]; ok {
			close(ch)
			delete(h.busy, n)
		}
	}
}

// Handle implements exchange.Handler.
func (h *Orders) Handle(ctx context.Context, job *exchange.Job) (exchange.Outcome, error) {
	f, err := job.Open()
	if err != nil {
		return exchange.Outcome{}, &exchange.Transient{Err: err}
	}
	res, perr := order.Parse(job.Input.Name, f, h.ParseOptions)
	f.Close()
	if perr != nil {
		return exchange.Outcome{Disposition: ledger.OutcomeFailed, Summary: "unreadable order file",
			Problems: []string{perr.Error()},
			Advice:   "Nothing from this file was sent to Globe. Correct the file (or have the webshop export it again) and put it back in the drop folder."}, nil
	}
	var problems []string
	for _, p := range res.Problems {
		problems = append(problems, p.Error())
	}
	if len(res.Orders) == 0 && len(problems) == 0 {
		problems = append(problems, "The file holds no orders.")
	}

	// Claim the order numbers in arrival order; the rest runs in parallel
	// with other files.
	numbers := make([]string, 0, len(res.Orders))
	seenNum := map[string]bool{}
	for i := range res.Orders {
		if n := res.Orders[i].Number; !seenNum[n] {
			seenNum[n] = true
			numbers = append(numbers, n)
		}
	}
	job.InTurn(func() { h.reserve(numbers) })
	defer h.release(numbers)

	type rendered struct {
		o    *order.Order
		xml  []byte
		name string
		hash string
	}
	var todo []rendered
	var pending []*ledger.Order
	var sent, dups, resumed []string
	for i := range res.Orders {
		o := &res.Orders[i]
		hash := o.Hash()
		prev, ok, err := h.Ledger.Order(h.Exchange, o.Number)
		if err != nil {
			return exchange.Outcome{}, fmt.Errorf("reading the ledger: %w", err)
		}
		// The ERP check is for orders the ledger does not know: an order an
		// interrupted attempt already staged or sent must be finished (or
		// reported as a duplicate), whatever the ERP's exports say now.
		if h.Check != nil && !ok {
			refused, err := h.Check.Check(o)
			if err != nil {
				return exchange.Outcome{}, &exchange.Transient{Err: err}
			}
			if len(refused) > 0 {
				problems = append(problems, refused...)
				continue
			}
		}
		if ok {
			switch {
			case prev.InputID == job.Input.ID:
				// Our own earlier attempt at this very input (a restart). The
				// XML is rendered again (it is deterministic) for the sent copy.
				var buf bytes.Buffer
				if _, err := globexml.Write(&buf, o, h.XML); err != nil {
					buf.Reset()
				}
				if err := h.resume(ctx, prev, buf.Bytes(), &pending); err != nil {
					var clash *nameClash
					if errors.As(err, &clash) {
						problems = append(problems, clash.Error())
						continue
					}
					return exchange.Outcome{}, err
				}
				resumed = append(resumed, o.Number)
				sent = append(sent, filepath.Base(prev.File))
			case prev.Hash == hash:
				dups = append(dups, fmt.Sprintf("Order %s was already sent to Globe on %s from the file %s (as %s); this copy was not sent again.",
					o.Number, prev.CreatedAt.Local().Format("2006-01-02 15:04:05"), prev.InputName, filepath.Base(prev.File)))
			default:
				problems = append(problems, fmt.Sprintf("Order %s (%s) was already sent to Globe on %s from the file %s with different content; the version in this file (%s, received %s) was NOT sent. Globe keeps the first version: change the order in Globe by hand, or have the webshop send the change under a new order number.",
					o.Number, o.Pos, prev.CreatedAt.Local().Format("2006-01-02 15:04:05"), prev.InputName, job.Input.Name, job.Input.ClaimedAt.Local().Format("2006-01-02 15:04:05")))
			}
			continue
		}
		var buf bytes.Buffer
		warnings, err := globexml.Write(&buf, o, h.XML)
		if err != nil {
			problems = append(problems, fmt.Sprintf("Order %s (%s): %v", o.Number, o.Pos, err))
			continue
		}
		for _, w := range warnings {
			job.Log.Warn().Str("order", o.Number).Str("cleaned", w).Msg("free text cleaned for XML")
		}
		todo = append(todo, rendered{o: o, xml: buf.Bytes(), name: globexml.FileName(o, h.Administration), hash: hash})
	}
	if h.AllOrNothing && len(problems) > 0 {
		todo = nil
	}
	var outputs []string
	for _, r := range todo {
		if err := h.send(ctx, job, r.o, r.hash, r.name, r.xml, &pending); err != nil {
			var clash *nameClash
			if errors.As(err, &clash) {
				problems = append(problems, clash.Error())
				continue
			}
			return exchange.Outcome{}, err
		}
		job.Log.Info().Str("order", r.o.Number).Int("lines", len(r.o.Lines)).Str("to", r.name).Msg("sent")
		sent = append(sent, r.name)
		outputs = append(outputs, r.name)
	}
	for _, n := range resumed {
		job.Log.Info().Str("order", n).Msg("sent (finished after restart)")
	}

	out := exchange.Outcome{Outputs: sent, Commit: func(t *ledger.Tx) error {
		for _, rec := range pending {
			if err := t.PutOrder(rec); err != nil {
				return err
			}
		}
		return nil
	}}
	switch {
	case len(problems) > 0:
		out.Disposition = ledger.OutcomeFailed
		out.Problems = append(problems, dups...)
		switch {
		case h.AllOrNothing:
			out.Advice = "This exchange is all-or-nothing: no order from this file was sent. Correct the problems and put the whole file back in the drop folder."
		case len(sent) > 0:
			out.Advice = fmt.Sprintf("The other orders of this file were sent (%s). Correct only the orders named above and send them again; re-sending the whole file is safe too: orders already sent are recognised and not sent twice.", strings.Join(sent, ", "))
		default:
			out.Advice = "No order from this file was sent. Correct the problems and put the file back in the drop folder."
		}
		out.Summary = fmt.Sprintf("%d order(s) sent, %d refused", len(sent), len(problems))
	case len(sent) == 0 && len(dups) > 0:
		out.Disposition = ledger.OutcomeDuplicate
		out.Problems = dups
		out.Advice = "Nothing to do: Globe already has these orders. If an order really must be entered twice, give it a new order number in the webshop."
		out.Summary = fmt.Sprintf("%d order(s) already sent", len(dups))
	default:
		out.Disposition = ledger.OutcomeProcessed
		out.Summary = fmt.Sprintf("%d order(s) sent", len(sent))
		if len(dups) > 0 {
			out.Problems = dups
			out.Summary += fmt.Sprintf(", %d already sent before", len(dups))
		}
	}
	return out, nil
}

type nameClash struct{ number, name, dir string }

func (c *nameClash) Error() string {
	return fmt.Sprintf("Order %s: the file %s already exists in %s but globex has no record of writing it; it was not overwritten and the order was NOT sent. Check whether Globe already has this order, then remove that file and send this one again.", c.number, c.name, c.dir)
}

func (h *Orders) send(ctx context.Context, job *exchange.Job, o *order.Order, hash, name string, xml []byte, pending *[]*ledger.Order) error {
	if ok, err := h.Target.Exists(ctx, name); err != nil {
		return err
	} else if ok {
		return &nameClash{o.Number, name, h.TargetDesc}
	}
	tmp, err := h.Target.Stage(ctx, name, job.Input.ID, func(w io.Writer) error { _, err := w.Write(xml); return err })
	if err != nil {
		return err
	}
	crashpoint.Hit("staged")
	rec := &ledger.Order{Exchange: h.Exchange, Number: o.Number, Hash: hash, State: ledger.OrderStaged,
		File: name, Temp: tmp, InputID: job.Input.ID, InputName: job.Input.Name, CreatedAt: time.Now().UTC()}
	for _, l := range o.Lines {
		rec.Lines = append(rec.Lines, ledger.OrderLine{Item: l.ItemCode, Quantity: l.Quantity.String(), Warehouse: firstNonEmpty(l.Warehouse, o.Delivery.Warehouse)})
	}
	if err := h.Ledger.PutOrder(rec); err != nil {
		_ = h.Target.Discard(ctx, tmp)
		return fmt.Errorf("writing the ledger: %w", err)
	}
	crashpoint.Hit("order-recorded")
	return h.publish(ctx, rec, xml, pending)
}

func (h *Orders) publish(ctx context.Context, rec *ledger.Order, xml []byte, pending *[]*ledger.Order) error {
	if err := h.Target.Publish(ctx, rec.Temp, rec.File, false); err != nil {
		if errors.Is(err, fsx.ErrExists) {
			return h.clash(ctx, rec)
		}
		return err
	}
	crashpoint.Hit("published")
	return h.markSent(rec, xml, pending)
}

// clash gives up an order whose final name is taken by a file globex did not
// write: the ledger record goes first (so a crash cannot leave "staged, temp
// gone", which reads as published), then the temp file.
func (h *Orders) clash(ctx context.Context, rec *ledger.Order) error {
	if err := h.Ledger.Update(func(t *ledger.Tx) error { return t.DeleteOrder(rec.Exchange, rec.Number) }); err != nil {
		return fmt.Errorf("writing the ledger: %w", err)
	}
	_ = h.Target.Discard(ctx, rec.Temp)
	return &nameClash{rec.Number, rec.File, h.TargetDesc}
}

func (h *Orders) markSent(rec *ledger.Order, xml []byte, pending *[]*ledger.Order) error {
	now := time.Now()
	if xml != nil {
		if _, err := h.Archive.SaveSentBytes(h.Exchange, rec.File, now, xml); err != nil {
			return &exchange.Transient{Err: fmt.Errorf("saving the sent copy of %s: %w", rec.File, err)}
		}
		crashpoint.Hit("sent-copy")
	}
	rec.State = ledger.OrderSent
	rec.SentAt = now.UTC()
	rec.Temp = ""
	// The "sent" mark is committed with the input's outcome. Until then the
	// order is "staged" with its temp file gone, which recovery reads as sent.
	*pending = append(*pending, rec)
	return nil
}

// resume finishes an order that an interrupted run of this same input had
// started.
func (h *Orders) resume(ctx context.Context, rec *ledger.Order, xml []byte, pending *[]*ledger.Order) error {
	if rec.State == ledger.OrderSent {
		return nil
	}
	ok, err := h.Target.Exists(ctx, rec.Temp)
	if err != nil {
		return err
	}
	if ok {
		// Staged, never published: publish now.
		if err := h.Target.Publish(ctx, rec.Temp, rec.File, false); err != nil {
			if errors.Is(err, fsx.ErrExists) {
				// Our temp file is still there, so the file under the
				// final name is somebody else's.
				return h.clash(ctx, rec)
			}
			return err
		}
	}
	// Otherwise it was published before the crash (the temp name is gone):
	// it is never written again.
	if len(xml) == 0 {
		xml = nil
	}
	return h.markSent(rec, xml, pending)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
