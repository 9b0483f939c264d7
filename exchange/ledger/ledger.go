// Package ledger is globex's crash-safe memory: every input file by exchange,
// name, size and SHA-256 with its state, and every order number with its
// content hash, output file and time. It is the proof behind "exactly once":
// each step is recorded (and fsynced) before its side effect becomes visible,
// so a restart after a crash at any point resumes instead of repeating.
//
// The store is bbolt: a single-file B+tree with ACID transactions, fsync on
// every commit, pure Go (no cgo, cross-compiles to Windows) and an exclusive
// file lock, so two processes can never share one state folder by accident.
// globex needs key lookups and ordered scans, not SQL, and bbolt compiles in
// seconds where the pure-Go SQLite is a very large transpiled C build.
package ledger

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketMeta   = []byte("meta")
	bucketInputs = []byte("inputs")
	bucketOrders = []byte("orders")
	bucketSHA    = []byte("sha")
	bucketState  = []byte("state")
	// bucketOrderTimes indexes orders by CreatedAt (exchange, 0, 8-byte
	// big-endian unix nanoseconds, number), so that the stock feed reads
	// only the orders since a measuring time, not every order ever sent.
	bucketOrderTimes = []byte("order-times")
	// bucketArchiving lists the inputs in StateArchiving, the only ones
	// recovery has to look at, so that it does not read every input ever
	// received.
	bucketArchiving = []byte("inputs-archiving")
)

// Input states.
const (
	StateReceived  = "received"  // claimed and hashed; processing may have started
	StateArchiving = "archiving" // outputs are committed; the input is being moved to ArchivePath
	StateDone      = "done"      // archived
)

// Outcomes (the archive folder an input ends in).
const (
	OutcomeProcessed = "processed"
	OutcomeFailed    = "failed"
	OutcomeDuplicate = "duplicates"
)

// Input is one input file as the ledger knows it.
type Input struct {
	ID          string    `json:"id"`
	Exchange    string    `json:"exchange"`
	Name        string    `json:"name"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	State       string    `json:"state"`
	Outcome     string    `json:"outcome,omitempty"`
	ArchivePath string    `json:"archive_path,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Outputs     []string  `json:"outputs,omitempty"`
	ClaimedAt   time.Time `json:"claimed_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Order states.
const (
	OrderStaged = "staged" // the XML is complete under Temp; it becomes File by a rename
	OrderSent   = "sent"   // File is in the ERP's import folder (or was, and the ERP took it)
)

// Order is one order number as sent to the ERP.
type Order struct {
	Exchange  string      `json:"exchange"`
	Number    string      `json:"number"`
	Hash      string      `json:"hash"`
	State     string      `json:"state"`
	File      string      `json:"file"`           // final path in the ERP import folder
	Temp      string      `json:"temp,omitempty"` // temp path while staged
	InputID   string      `json:"input_id"`
	InputName string      `json:"input_name"`
	Lines     []OrderLine `json:"lines,omitempty"`
	CreatedAt time.Time   `json:"created_at"`
	SentAt    time.Time   `json:"sent_at,omitzero"`
}

// OrderLine is what the stock feed needs to know of a sent order line.
type OrderLine struct {
	Item      string `json:"item"`
	Quantity  string `json:"qty"`
	Warehouse string `json:"wh,omitempty"`
}

// Ledger is an open ledger. It is safe for concurrent use.
type Ledger struct {
	db       *bolt.DB
	instance string

	mu   sync.Mutex
	lazy map[string]*Input // records written with the next commit
}

// ErrLocked means another process holds the ledger.
var ErrLocked = errors.New("the state folder is in use by another globex process")

// Open opens (or creates) the ledger in dir.
func Open(dir string) (*Ledger, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the state folder %s: %w", dir, err)
	}
	path := filepath.Join(dir, "ledger.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s (stop the other process, or give this configuration its own state_dir)", ErrLocked, dir)
		}
		return nil, fmt.Errorf("cannot open the ledger %s: %w", path, err)
	}
	// Concurrent commits (several files in flight) share one fsync.
	db.MaxBatchDelay = 2 * time.Millisecond
	l := &Ledger{db: db, lazy: map[string]*Input{}}
	// The indexes (order times, archiving inputs) are trusted only when
	// nothing wrote since this version last closed the ledger cleanly: an
	// earlier version (a rollback) or a crash may have written records
	// without them, so then they are built again from the records.
	var lastTx int
	var indexedAt string
	_ = db.View(func(tx *bolt.Tx) error {
		lastTx = tx.ID()
		if m := tx.Bucket(bucketMeta); m != nil {
			indexedAt = string(m.Get(keyIndexedAt))
		}
		return nil
	})
	err = db.Update(func(tx *bolt.Tx) error {
		rebuild := indexedAt != strconv.Itoa(lastTx)
		for _, b := range [][]byte{bucketOrderTimes, bucketArchiving} {
			if rebuild && tx.Bucket(b) != nil {
				if err := tx.DeleteBucket(b); err != nil {
					return err
				}
			}
		}
		for _, b := range [][]byte{bucketMeta, bucketInputs, bucketOrders, bucketSHA, bucketState, bucketOrderTimes, bucketArchiving} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if rebuild {
			if err := indexOrderTimes(tx); err != nil {
				return err
			}
			if err := listArchiving(tx); err != nil {
				return err
			}
		}
		m := tx.Bucket(bucketMeta)
		// Until the next clean Close, a new open rebuilds.
		if err := m.Delete(keyIndexedAt); err != nil {
			return err
		}
		if id := m.Get([]byte("instance")); id != nil {
			l.instance = string(id)
			return nil
		}
		var b [8]byte
		_, _ = rand.Read(b[:])
		l.instance = hex.EncodeToString(b[:])
		return m.Put([]byte("instance"), []byte(l.instance))
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot initialise the ledger %s: %w", path, err)
	}
	return l, nil
}

// keyIndexedAt records, at a clean Close, the transaction after which the
// indexes are complete.
var keyIndexedAt = []byte("indexes-at")

// Close writes lazy records and closes the ledger.
func (l *Ledger) Close() error {
	ferr := l.Flush()
	if ferr == nil {
		ferr = l.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keyIndexedAt, []byte(strconv.Itoa(tx.ID())))
		})
	}
	if err := l.db.Close(); err != nil {
		return err
	}
	return ferr
}

// Instance is a stable identifier of this state folder; claims carry it so
// that two globex processes on one drop folder never take each other's files.
func (l *Ledger) Instance() string { return l.instance }

func key(exchange, id string) []byte {
	return append(append([]byte(exchange), 0), id...)
}

// Tx is a write transaction: several records committed together, with one
// fsync.
type Tx struct{ tx *bolt.Tx }

// Update runs fn in a durable write transaction. Concurrent calls may be
// merged into one commit (one fsync), so fn may run more than once and must
// only put records. Lazy records ride along.
func (l *Ledger) Update(fn func(*Tx) error) error {
	l.mu.Lock()
	lazy := make([]*Input, 0, len(l.lazy))
	for _, in := range l.lazy {
		lazy = append(lazy, in)
	}
	l.mu.Unlock()
	err := l.db.Batch(func(tx *bolt.Tx) error {
		t := &Tx{tx}
		for _, in := range lazy {
			// A lazy record never takes an input back to an earlier state
			// that another commit has already moved past.
			if v := tx.Bucket(bucketInputs).Get(key(in.Exchange, in.ID)); v != nil {
				var cur Input
				if json.Unmarshal(v, &cur) == nil && stateRank(cur.State) > stateRank(in.State) {
					continue
				}
			}
			c := *in
			if err := t.PutInput(&c); err != nil {
				return err
			}
		}
		return fn(t)
	})
	if err == nil && len(lazy) > 0 {
		l.mu.Lock()
		for _, in := range lazy {
			if cur := l.lazy[string(key(in.Exchange, in.ID))]; cur == in {
				delete(l.lazy, string(key(in.Exchange, in.ID)))
			}
		}
		l.mu.Unlock()
	}
	return err
}

func stateRank(s string) int {
	switch s {
	case StateReceived:
		return 1
	case StateArchiving:
		return 2
	case StateDone:
		return 3
	}
	return 0
}

// Lazy records in with the next commit instead of a commit of its own. Use
// it only for records whose loss in a crash is harmless because recovery
// recreates them (an input just received, an input that is done). Input
// reads see lazy records at once.
func (l *Ledger) Lazy(in *Input) {
	c := *in
	c.UpdatedAt = time.Now().UTC()
	l.mu.Lock()
	l.lazy[string(key(in.Exchange, in.ID))] = &c
	l.mu.Unlock()
}

// Flush writes lazy records now.
func (l *Ledger) Flush() error {
	l.mu.Lock()
	n := len(l.lazy)
	l.mu.Unlock()
	if n == 0 {
		return nil
	}
	return l.Update(func(*Tx) error { return nil })
}

// PutInput stores in (and its content index).
func (t *Tx) PutInput(in *Input) error {
	in.UpdatedAt = time.Now().UTC()
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	k := key(in.Exchange, in.ID)
	if err := t.tx.Bucket(bucketInputs).Put(k, b); err != nil {
		return err
	}
	if in.State == StateArchiving {
		err = t.tx.Bucket(bucketArchiving).Put(k, nil)
	} else {
		err = t.tx.Bucket(bucketArchiving).Delete(k)
	}
	if err != nil {
		return err
	}
	if in.SHA256 != "" && in.State == StateDone && in.Outcome == OutcomeProcessed {
		return t.tx.Bucket(bucketSHA).Put(key(in.Exchange, in.SHA256), []byte(in.ID))
	}
	return nil
}

// PutOrder stores o.
func (t *Tx) PutOrder(o *Order) error {
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	k := key(o.Exchange, o.Number)
	if err := t.unindexOrder(k, o.CreatedAt); err != nil {
		return err
	}
	if err := t.tx.Bucket(bucketOrderTimes).Put(timeKey(o.Exchange, o.CreatedAt, o.Number), nil); err != nil {
		return err
	}
	return t.tx.Bucket(bucketOrders).Put(k, b)
}

// DeleteOrder removes an order record (only for a staged order whose file
// was never published).
func (t *Tx) DeleteOrder(exchange, number string) error {
	k := key(exchange, number)
	if err := t.unindexOrder(k, time.Time{}); err != nil {
		return err
	}
	return t.tx.Bucket(bucketOrders).Delete(k)
}

// unindexOrder removes the time index entry of the stored order k unless
// its time is keep.
func (t *Tx) unindexOrder(k []byte, keep time.Time) error {
	v := t.tx.Bucket(bucketOrders).Get(k)
	if v == nil {
		return nil
	}
	var old Order
	if err := json.Unmarshal(v, &old); err != nil {
		return err
	}
	if !keep.IsZero() && old.CreatedAt.Equal(keep) {
		return nil
	}
	return t.tx.Bucket(bucketOrderTimes).Delete(timeKey(old.Exchange, old.CreatedAt, old.Number))
}

// timeKey is an order's key in the time index.
func timeKey(exchange string, at time.Time, number string) []byte {
	k := key(exchange, "")
	k = binary.BigEndian.AppendUint64(k, nanos(at))
	return append(k, number...)
}

// nanos is t in unix nanoseconds, kept within 1970 to 2262 (beyond, UnixNano
// is undefined).
func nanos(t time.Time) uint64 {
	switch {
	case t.Unix() <= 0:
		return 0
	case t.Year() >= 2262:
		return 1<<63 - 1
	}
	return uint64(t.UnixNano())
}

// listArchiving fills the list of archiving inputs from the inputs.
func listArchiving(tx *bolt.Tx) error {
	list := tx.Bucket(bucketArchiving)
	return tx.Bucket(bucketInputs).ForEach(func(k, v []byte) error {
		var in Input
		if err := json.Unmarshal(v, &in); err != nil {
			return err
		}
		if in.State != StateArchiving {
			return nil
		}
		return list.Put(k, nil)
	})
}

// indexOrderTimes fills the time index from the orders.
func indexOrderTimes(tx *bolt.Tx) error {
	idx := tx.Bucket(bucketOrderTimes)
	return tx.Bucket(bucketOrders).ForEach(func(_, v []byte) error {
		var o Order
		if err := json.Unmarshal(v, &o); err != nil {
			return err
		}
		return idx.Put(timeKey(o.Exchange, o.CreatedAt, o.Number), nil)
	})
}

// PutState stores a small named value for an exchange (for example the last
// published snapshot of a feed).
func (t *Tx) PutState(exchange, name string, value []byte) error {
	return t.tx.Bucket(bucketState).Put(key(exchange, name), value)
}

// DeleteState removes a named value stored with PutState (nothing if there
// is none).
func (t *Tx) DeleteState(exchange, name string) error {
	return t.tx.Bucket(bucketState).Delete(key(exchange, name))
}

// States calls fn for every named value of exchange whose name starts with
// prefix, in name order, with the whole name. value is valid only during
// the call. fn must not change states: collect the names, then put or
// delete them once States has returned.
func (t *Tx) States(exchange, prefix string, fn func(name string, value []byte) error) error {
	pre := key(exchange, prefix)
	skip := len(exchange) + 1
	c := t.tx.Bucket(bucketState).Cursor()
	for k, v := c.Seek(pre); k != nil && bytes.HasPrefix(k, pre); k, v = c.Next() {
		if err := fn(string(k[skip:]), v); err != nil {
			return err
		}
	}
	return nil
}

// PutInput stores one input record durably.
func (l *Ledger) PutInput(in *Input) error {
	return l.Update(func(t *Tx) error { return t.PutInput(in) })
}

// PutOrder stores one order record durably.
func (l *Ledger) PutOrder(o *Order) error {
	return l.Update(func(t *Tx) error { return t.PutOrder(o) })
}

// Input returns the record of an input.
func (l *Ledger) Input(exchange, id string) (*Input, bool, error) {
	l.mu.Lock()
	if lz, ok := l.lazy[string(key(exchange, id))]; ok {
		c := *lz
		l.mu.Unlock()
		return &c, true, nil
	}
	l.mu.Unlock()
	var in *Input
	err := l.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketInputs).Get(key(exchange, id))
		if v == nil {
			return nil
		}
		in = &Input{}
		return json.Unmarshal(v, in)
	})
	return in, in != nil, err
}

// ProcessedWithSHA returns the last input of exchange with this content that
// was processed successfully.
func (l *Ledger) ProcessedWithSHA(exchange, sha string) (*Input, bool, error) {
	var id string
	err := l.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketSHA).Get(key(exchange, sha)); v != nil {
			id = string(v)
		}
		return nil
	})
	if err != nil || id == "" {
		return nil, false, err
	}
	return l.Input(exchange, id)
}

// Order returns the record of an order number.
func (l *Ledger) Order(exchange, number string) (*Order, bool, error) {
	var o *Order
	err := l.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketOrders).Get(key(exchange, number))
		if v == nil {
			return nil
		}
		o = &Order{}
		return json.Unmarshal(v, o)
	})
	return o, o != nil, err
}

// State returns a named value stored with PutState.
func (l *Ledger) State(exchange, name string) ([]byte, error) {
	var out []byte
	err := l.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketState).Get(key(exchange, name)); v != nil {
			out = bytes.Clone(v)
		}
		return nil
	})
	return out, err
}

// Inputs calls fn for every input of exchange, in ID order (which is claim
// order). fn must not call back into the ledger.
func (l *Ledger) Inputs(exchange string, fn func(*Input) error) error {
	prefix := key(exchange, "")
	return l.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketInputs).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			in := &Input{}
			if err := json.Unmarshal(v, in); err != nil {
				return err
			}
			if err := fn(in); err != nil {
				return err
			}
		}
		return nil
	})
}

// ArchivingInputs calls fn for every input of exchange in StateArchiving
// (outputs committed, the move into the archive maybe not finished); it
// reads only those. fn must not call back into the ledger.
func (l *Ledger) ArchivingInputs(exchange string, fn func(*Input) error) error {
	prefix := key(exchange, "")
	return l.db.View(func(tx *bolt.Tx) error {
		inputs := tx.Bucket(bucketInputs)
		c := tx.Bucket(bucketArchiving).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			v := inputs.Get(k)
			if v == nil {
				continue
			}
			in := &Input{}
			if err := json.Unmarshal(v, in); err != nil {
				return err
			}
			if in.State != StateArchiving {
				continue
			}
			if err := fn(in); err != nil {
				return err
			}
		}
		return nil
	})
}

// OrdersSince calls fn for every order of exchange created after t, in
// order of creation; it reads only those orders. fn must not call back into
// the ledger.
func (l *Ledger) OrdersSince(exchange string, t time.Time, fn func(*Order) error) error {
	prefix := key(exchange, "")
	// From t's own slot (a time outside 1970-2262 shares the first or last
	// one): orders at t itself are left out below.
	start := binary.BigEndian.AppendUint64(slices.Clone(prefix), nanos(t))
	return l.db.View(func(tx *bolt.Tx) error {
		orders := tx.Bucket(bucketOrders)
		c := tx.Bucket(bucketOrderTimes).Cursor()
		for k, _ := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if len(k) < len(prefix)+8 {
				continue
			}
			v := orders.Get(key(exchange, string(k[len(prefix)+8:])))
			if v == nil {
				continue
			}
			o := &Order{}
			if err := json.Unmarshal(v, o); err != nil {
				return err
			}
			if !o.CreatedAt.After(t) {
				continue
			}
			if err := fn(o); err != nil {
				return err
			}
		}
		return nil
	})
}

// Orders calls fn for every order of exchange. fn must not call back into the
// ledger.
func (l *Ledger) Orders(exchange string, fn func(*Order) error) error {
	prefix := key(exchange, "")
	return l.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOrders).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			o := &Order{}
			if err := json.Unmarshal(v, o); err != nil {
				return err
			}
			if err := fn(o); err != nil {
				return err
			}
		}
		return nil
	})
}
