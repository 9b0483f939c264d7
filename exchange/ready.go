package exchange

import (
	"sort"
	"time"
)

// Readiness decides when a listed file is complete, from our own observations
// only (never a remote or foreign clock):
//
//   - with a done-file convention, a file is ready when its marker is listed;
//   - a file that arrived by rename (an event said it appeared, no write
//     followed, and it did not change over a short settle time) is ready at once;
//   - any other file is ready when its size and modification time held still
//     across two of our observations at least StableFor apart.
//
// Files are handed out in order of arrival (first seen, then modification
// time, then name).
type Readiness struct {
	StableFor  time.Duration
	Settle     time.Duration
	DoneSuffix string

	seen map[string]*observation
	seq  int64
}

type observation struct {
	size       int64
	mod        time.Time
	firstSeen  time.Time
	order      int64
	lastChange time.Time
	created    time.Time // zero: no create hint
	written    bool      // a write event was seen
	hintSize   int64
	hintMod    time.Time
	hintStat   bool
}

// Hint records a file system event.
func (r *Readiness) Hint(h Hint, size int64, mod time.Time, statOK bool) {
	o := r.obs(h.Name, h.At)
	if h.Write {
		o.written = true
	}
	if h.Create && o.created.IsZero() {
		o.created = h.At
		o.hintSize, o.hintMod, o.hintStat = size, mod, statOK
	}
}

func (r *Readiness) obs(name string, now time.Time) *observation {
	if r.seen == nil {
		r.seen = map[string]*observation{}
	}
	o := r.seen[name]
	if o == nil {
		r.seq++
		o = &observation{size: -1, firstSeen: now, lastChange: now, order: r.seq}
		r.seen[name] = o
	}
	return o
}

// Update takes a fresh listing and returns the entries that are ready, in
// arrival order, and the earliest time at which a pending entry could become
// ready (zero if none is pending).
func (r *Readiness) Update(entries []Entry, markers map[string]bool, now time.Time) (ready []Entry, next time.Time) {
	present := make(map[string]bool, len(entries))
	type cand struct {
		e Entry
		o *observation
	}
	var cands []cand
	// Files first seen in the same listing arrive in modification-time order.
	var fresh []Entry
	for _, e := range entries {
		if _, ok := r.seen[e.Name]; !ok {
			fresh = append(fresh, e)
		}
	}
	sort.SliceStable(fresh, func(i, j int) bool {
		if !fresh[i].ModTime.Equal(fresh[j].ModTime) {
			return fresh[i].ModTime.Before(fresh[j].ModTime)
		}
		return fresh[i].Name < fresh[j].Name
	})
	for _, e := range fresh {
		r.obs(e.Name, now)
	}
	for _, e := range entries {
		present[e.Name] = true
		o := r.obs(e.Name, now)
		if o.size != e.Size || !o.mod.Equal(e.ModTime) {
			if o.size != -1 {
				o.lastChange = now
			}
			o.size, o.mod = e.Size, e.ModTime
		}
		isReady := false
		switch {
		case r.DoneSuffix != "":
			isReady = markers[e.Name+r.DoneSuffix]
		case !o.created.IsZero() && !o.written && o.hintStat && e.Size > 0 &&
			o.hintSize == e.Size && o.hintMod.Equal(e.ModTime):
			if now.Sub(o.created) >= r.Settle {
				isReady = true
			} else {
				next = earliest(next, o.created.Add(r.Settle))
			}
		}
		if !isReady && r.DoneSuffix == "" {
			if now.Sub(o.lastChange) >= r.StableFor && now.After(o.firstSeen) && o.lastChange.Before(now) {
				isReady = true
			} else {
				next = earliest(next, o.lastChange.Add(r.StableFor))
			}
		}
		if isReady {
			cands = append(cands, cand{e, o})
		}
	}
	for name := range r.seen {
		if !present[name] {
			delete(r.seen, name)
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.o.order != b.o.order {
			return a.o.order < b.o.order
		}
		if !a.e.ModTime.Equal(b.e.ModTime) {
			return a.e.ModTime.Before(b.e.ModTime)
		}
		return a.e.Name < b.e.Name
	})
	for _, c := range cands {
		ready = append(ready, c.e)
	}
	return ready, next
}

// ForgetHints drops every event hint, so all files wait for their size and
// time to hold still (used when events were lost).
func (r *Readiness) ForgetHints() {
	for _, o := range r.seen {
		o.created = time.Time{}
		o.written = true
	}
}

// Forget drops what is known about name (after it was claimed).
func (r *Readiness) Forget(name string) { delete(r.seen, name) }

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}
