package feed

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"globex/internal/decimal"
)

// refRow is a sink that builds a CSV row the plain way (decimal.String,
// AppendCSVField per cell): the reference for stockRow and its memo.
type refRow struct {
	b []byte
	n int
}

func (r *refRow) sep() {
	if r.n > 0 {
		r.b = append(r.b, ';')
	}
	r.n++
}
func (r *refRow) str(s string)      { r.sep(); r.b = AppendCSVField(r.b, s, ';') }
func (r *refRow) dec(d decimal.Dec) { r.sep(); r.b = append(r.b, d.String()...) }
func (r *refRow) optDec(d *decimal.Dec) {
	r.sep()
	if d != nil {
		r.b = append(r.b, d.String()...)
	}
}
func (r *refRow) boolean(v bool) { r.sep(); r.b = append(r.b, fmt.Sprint(v)...) }

func refCSV(rec *Stock, cols *Columns) (string, error) {
	var r refRow
	err := cells(rec, cols, &r)
	return string(r.b), err
}

// The chunk encoders (JSON remembering the figures' text, CSV row reusing
// it) write exactly what encoding/json and the plain cell writer write, for
// random records: negative, zero, large-scale and huge decimals, missing
// warehouses, more warehouses than the memo holds, escaped codes, every
// display mode, and records changed between the two encodings.
func TestStockChunkEncodersMatchReference(t *testing.T) {
	type setup struct {
		display string
		whs     []string
		cols    []string
	}
	var setups []setup
	for _, d := range []string{"", "capped", "class"} {
		setups = append(setups,
			setup{d, []string{"1", "2"}, []string{"1", "2"}},
			setup{d, []string{"1", "2"}, []string{"0", "1", "15", "2", "3"}},
			setup{d, []string{"A"}, []string{"A"}},
			setup{d, []string{"w1", "w2", "w3", "w4", "w5"}, []string{"w1", "w2", "w3", "w4", "w5"}},
			setup{d, nil, nil},
			setup{d, []string{"2", "1", "10"}, []string{"1", "10", "2"}}, // records out of order
			setup{d, []string{"1", "2", "1"}, []string{"1", "2"}},        // a code twice: the last wins
		)
	}
	for si, st := range setups {
		g := newStockGen(uint64(1000 + si))
		g.display, g.varied, g.whs = st.display, true, st.whs
		cols := Columns{Warehouses: st.cols}
		var out bytes.Buffer
		cw := NewCSVWriter(&out, KindStock, cols)
		cc := cw.NewChunk().(*csvChunk)
		var enc JSONChunkEncoder
		for i := range 400 {
			rec := g.fill(i)
			wantJSON := refJSON(t, rec)
			mode := i % 4
			var got []byte
			if mode != 3 { // mode 3: the CSV row alone, with the last record's memo
				got = enc.Append(nil, rec)
				if !bytes.Equal(got, wantJSON) {
					t.Fatalf("setup %d record %d: JSONChunkEncoder\n got %s\nwant %s", si, i, got, wantJSON)
				}
			}
			if mode == 2 && len(rec.Warehouses) > 0 { // changed after the JSON was encoded
				rec.OnHand, _ = rec.OnHand.Add(decimal.New(1, 3))
				w := &rec.Warehouses[0]
				w.Reserved = decimal.New(w.Reserved.Coef()+1, w.Reserved.Scale())
			}
			wantCSV, wantErr := refCSV(rec, &cols)
			cc.row.b = cc.row.b[:0]
			err := cc.Add(rec)
			if (err != nil) != (wantErr != nil) || err != nil && !errors.Is(err, ErrUnknownColumn) {
				t.Fatalf("setup %d record %d: Add error %v, want %v", si, i, err, wantErr)
			}
			if err == nil && string(cc.row.b) != wantCSV+"\n" {
				t.Fatalf("setup %d record %d (mode %d): CSV row\n got %q\nwant %q", si, i, mode, cc.row.b, wantCSV+"\n")
			}
			// the plain writer, reading a memo it did not write
			var plain bytes.Buffer
			pw := NewCSVWriter(&plain, KindStock, cols)
			err = pw.Write(rec)
			pw.Close()
			if err == nil && !bytes.HasSuffix(plain.Bytes(), []byte("\n"+wantCSV+"\n")) {
				t.Fatalf("setup %d record %d: CSVWriter.Write %q, want %q", si, i, plain.Bytes(), wantCSV)
			}
			if got := rec.AppendJSON(nil); !bytes.Equal(got, refJSON(t, rec)) {
				t.Fatalf("setup %d record %d: AppendJSON after a change\n got %s", si, i, got)
			}
		}
	}
}

// appendDec agrees with decimal's own formatting across scales and
// magnitudes, and the memo hands back what it was given.
func TestAppendDecAndMemo(t *testing.T) {
	r := benchRand(5)
	var m figMemo
	var b []byte
	var decs []decimal.Dec
	for i := range 200000 {
		var c int64
		switch i % 4 {
		case 0:
			c = int64(r.next())
		case 1:
			c = int64(r.intn(1000)) - 500
		case 2:
			c = int64(r.next() >> (r.intn(63) + 1))
		default:
			c = -int64(r.next() >> r.intn(64))
		}
		d := decimal.New(c, r.intn(decimal.MaxScale+1))
		if got, want := string(appendDec(nil, d)), d.String(); got != want {
			t.Fatalf("appendDec(%d, %d) = %q, want %q", d.Coef(), d.Scale(), got, want)
		}
		if i%memoFigs == 0 {
			m.n, b, decs = 0, b[:0], decs[:0]
		}
		b = m.add(b, d)
		decs = append(decs, d)
		if len(decs) == memoFigs {
			cur := figCursor{m: &m}
			var again []byte
			for _, d := range decs {
				again = cur.appendDec(again, d)
			}
			if !bytes.Equal(again, b) {
				t.Fatalf("memo gave %q, want %q", again, b)
			}
		}
	}
	// decWords (all coefficients below 10^8 and scales up to 7 were checked
	// once, 16 s): every scale around the powers of ten, and a sweep
	for _, c := range decWordsCases() {
		for s := range decimal.MaxScale + 1 {
			d := decimal.New(c, s)
			w0, w1, n, ok := decWords(d)
			if want := d.String(); ok != (abs64(c) < 1e8 && s <= 7) || ok && string(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, w0), w1)[:n]) != want {
				t.Fatalf("decWords(%d, %d) = %x %x %d %v, want %q", c, s, w0, w1, n, ok, want)
			}
		}
	}
	for _, c := range []int64{-1 << 63, 1<<63 - 1, 0, -1, 1} {
		for s := range decimal.MaxScale + 1 {
			d := decimal.New(c, s)
			if got, want := string(appendDec(nil, d)), d.String(); got != want {
				t.Fatalf("appendDec(%d, %d) = %q, want %q", c, s, got, want)
			}
		}
	}
}

func abs64(c int64) uint64 {
	if c < 0 {
		return uint64(-c)
	}
	return uint64(c)
}

func decWordsCases() []int64 {
	var cs []int64
	for p := int64(1); p <= 1e9; p *= 10 {
		for _, c := range []int64{p - 1, p, p + 1, 2 * p, 5*p - 1} {
			cs = append(cs, c, -c)
		}
	}
	for c := int64(0); c < 100000; c += 7 {
		cs = append(cs, c, -c, c*997)
	}
	return cs
}
