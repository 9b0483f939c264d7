package exchange

import (
	"context"
	"sync"
)

// sequencer lets concurrently handled files take turns in arrival order.
type sequencer struct {
	mu   sync.Mutex
	cond *sync.Cond
	next uint64
	seqs map[*Claimed]uint64
}

func newSequencer() *sequencer {
	s := &sequencer{next: 1, seqs: map[*Claimed]uint64{}}
	s.cond = sync.NewCond(&s.mu)
	return s
}

func (s *sequencer) assign(c *Claimed, n uint64) {
	s.mu.Lock()
	s.seqs[c] = n
	s.mu.Unlock()
}

type turnKey struct{}

type turn struct {
	s     *sequencer
	n     uint64
	taken bool
}

func (s *sequencer) context(c *Claimed) (context.Context, *turn) {
	s.mu.Lock()
	n := s.seqs[c]
	delete(s.seqs, c)
	s.mu.Unlock()
	t := &turn{s: s, n: n}
	return context.WithValue(context.Background(), turnKey{}, t), t
}

func turnFrom(ctx context.Context) *turn {
	t, _ := ctx.Value(turnKey{}).(*turn)
	return t
}

// InTurn runs fn after every earlier file (in arrival order) has had its
// turn, and before any later file has its turn. A handler uses it for the
// part of its work whose outcome depends on order, such as claiming order
// numbers; the rest runs in parallel. Without concurrency it just runs fn.
func (j *Job) InTurn(fn func()) {
	t := j.turn
	if t == nil {
		fn()
		return
	}
	t.s.mu.Lock()
	if t.taken {
		t.s.mu.Unlock()
		fn()
		return
	}
	for t.s.next != t.n {
		t.s.cond.Wait()
	}
	t.s.mu.Unlock()
	defer j.endTurn()
	fn()
}

// endTurn passes the turn on (also when the handler never asked for it).
func (j *Job) endTurn() { j.turn.end() }

func (t *turn) end() {
	if t == nil {
		return
	}
	t.s.mu.Lock()
	if t.taken {
		t.s.mu.Unlock()
		return
	}
	for t.s.next != t.n {
		t.s.cond.Wait()
	}
	t.taken = true
	t.s.next++
	t.s.cond.Broadcast()
	t.s.mu.Unlock()
}
