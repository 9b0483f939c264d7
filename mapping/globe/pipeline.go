package globe

import (
	"errors"
	"fmt"
)

// Sizes of the read-ahead of pipeline: records travel in batches (one
// channel operation per batch, not per record), and at most pipeBatches
// batches exist, which bounds the records held at once.
const (
	pipeBatch   = 32
	pipeBatches = 4
)

// batch is a run of records parsed ahead; err, when set, ends the stream
// after the batch's records.
type batch[T any] struct {
	recs []*T
	n    int
	err  error
}

var (
	// errStopped is returned to the producer once the consumer has stopped.
	errStopped = errors.New("globe: reading stopped")
	// errEndOfInput marks the last batch of a stream that ended well.
	errEndOfInput = errors.New("globe: end of input")
)

// producerPanic carries a panic of the producer goroutine to the caller.
type producerPanic struct{ v any }

func (p producerPanic) Error() string { return fmt.Sprintf("panic: %v", p.v) }

// pipeline runs produce in a new goroutine and calls fn, in the calling
// goroutine and in order, for each record produce delivers. produce fills
// first, then calls deliver each time a record is complete; deliver returns
// the (reused) record to fill next, or errStopped once fn has failed, which
// produce is expected to return. pipeline returns fn's first error, else
// produce's error. It returns only after the producer goroutine has ended,
// so produce's input is never touched after pipeline returns, and a panic
// in produce is raised again in the caller.
//
// While no batch is ready, idle (if not nil) is called until it returns
// false, so the caller's goroutine does useful work instead of waiting.
func pipeline[T any](fn func(*T) error, idle func() bool, produce func(first *T, deliver func() (*T, error)) error) error {
	free := make(chan *batch[T], pipeBatches)
	full := make(chan *batch[T], pipeBatches)
	done := make(chan struct{})
	exited := make(chan struct{})
	for range pipeBatches {
		b := &batch[T]{recs: make([]*T, pipeBatch)}
		for i := range b.recs {
			b.recs[i] = new(T)
		}
		free <- b
	}
	go func() {
		defer close(exited)
		cur := <-free
		send := func() bool {
			select {
			case full <- cur:
				return true
			case <-done:
				return false
			}
		}
		defer func() {
			if v := recover(); v != nil {
				cur.err = producerPanic{v}
				send()
			}
		}()
		deliver := func() (*T, error) {
			cur.n++
			if cur.n < len(cur.recs) {
				return cur.recs[cur.n], nil
			}
			select {
			case <-done:
				return nil, errStopped
			default:
			}
			if !send() {
				return nil, errStopped
			}
			select {
			case cur = <-free:
			case <-done:
				return nil, errStopped
			}
			cur.n, cur.err = 0, nil
			return cur.recs[0], nil
		}
		err := produce(cur.recs[0], deliver)
		if errors.Is(err, errStopped) {
			return
		}
		if err == nil {
			err = errEndOfInput
		}
		cur.err = err
		send()
	}()
	defer func() {
		close(done)
		<-exited
	}()
	for {
		var b *batch[T]
		select {
		case b = <-full:
		default:
			if idle != nil {
				if !idle() {
					idle = nil
				}
				continue
			}
			b = <-full
		}
		for _, rec := range b.recs[:b.n] {
			if err := fn(rec); err != nil {
				return err
			}
		}
		switch err := b.err.(type) {
		case nil:
		case producerPanic:
			panic(err.v)
		default:
			if err == errEndOfInput {
				return nil
			}
			return err
		}
		b.n = 0
		free <- b
	}
}
