package globe

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// event is one token in a comparable form.
type event struct {
	Kind  byte // 'S', 'E', 'T'
	Name  string
	Attrs []string
	Text  string
}

// ourEvents tokenizes with the package scanner.
func ourEvents(data []byte) ([]event, error) {
	dec, err := decodeInput(bytes.NewReader(data), Options{})
	if err != nil {
		return nil, err
	}
	s := newScanner(dec, 0, 0)
	s.wantText = true
	var out []event
	for {
		k, err := s.next()
		if err != nil {
			return nil, err
		}
		switch k {
		case tokEOF:
			return out, nil
		case tokStart:
			e := event{Kind: 'S', Name: string(s.name)}
			for _, a := range s.attrs {
				e.Attrs = append(e.Attrs, string(a.name)+"="+string(a.value))
			}
			out = append(out, e)
		case tokEnd:
			out = append(out, event{Kind: 'E', Name: string(s.name)})
		case tokText:
			if n := len(out); n > 0 && out[n-1].Kind == 'T' {
				out[n-1].Text += string(s.text)
			} else {
				out = append(out, event{Kind: 'T', Text: string(s.text)})
			}
		}
	}
}

// stdEvents tokenizes with encoding/xml (Strict, no entity map): acceptance
// from Token (which checks nesting), names as written from RawToken.
func stdEvents(data []byte) ([]event, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
	}
	raw := func(n xml.Name) string {
		if n.Space == "" {
			return n.Local
		}
		return n.Space + ":" + n.Local
	}
	d = xml.NewDecoder(bytes.NewReader(data))
	var out []event
	depth := 0
	for {
		t, err := d.RawToken()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			e := event{Kind: 'S', Name: raw(t.Name)}
			for _, a := range t.Attr {
				e.Attrs = append(e.Attrs, raw(a.Name)+"="+a.Value)
			}
			out = append(out, e)
			depth++
		case xml.EndElement:
			out = append(out, event{Kind: 'E', Name: raw(t.Name)})
			depth--
		case xml.CharData:
			if depth == 0 {
				continue
			}
			if n := len(out); n > 0 && out[n-1].Kind == 'T' {
				out[n-1].Text += string(t)
			} else {
				out = append(out, event{Kind: 'T', Text: string(t)})
			}
		}
	}
}

// serialize writes events back as plain XML.
func serialize(evs []event) []byte {
	var b bytes.Buffer
	for _, e := range evs {
		switch e.Kind {
		case 'S':
			b.WriteString("<" + e.Name)
			for _, a := range e.Attrs {
				k, v, _ := strings.Cut(a, "=")
				b.WriteString(" " + k + `="`)
				xml.EscapeText(&b, []byte(v))
				b.WriteString(`"`)
			}
			b.WriteString(">")
		case 'E':
			b.WriteString("</" + e.Name + ">")
		case 'T':
			xml.EscapeText(&b, []byte(e.Text))
		}
	}
	return b.Bytes()
}

func allRecords(data []byte) (string, error) {
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	err := ReadItems(bytes.NewReader(data), Options{}, func(it *Item) error { it.Line = 0; return enc.Encode(it) })
	if err != nil {
		return out.String(), err
	}
	err = ReadItemPrices(bytes.NewReader(data), Options{}, func(p *ItemPrice) error { p.Line = 0; return enc.Encode(p) })
	var fe *FormatError
	if err != nil && !errors.As(err, &fe) {
		return out.String(), err
	}
	err = ReadAccounts(bytes.NewReader(data), Options{}, func(a *Account) error { a.Line = 0; return enc.Encode(a) })
	if err != nil && !errors.As(err, &fe) {
		return out.String(), err
	}
	return out.String(), nil
}

func addSeeds(f *testing.F) {
	dir := filepath.Join("..", "..", "..", "shared", "globe", "examples")
	for _, name := range []string{"items-export.xml", "itemprices-export.xml", "accounts-export.xml"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			f.Add(b)
		}
	}
	if b, err := os.ReadFile("../../testdata/globe/items-quirks.xml"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		`<eExact><Items><Item code="a&amp;b&#65;&#x42;"><Description>x&lt;y]]z</Description></Item></Items></eExact>`,
		"<eExact>\r\n<Items><Item code='1'><![CDATA[a]]]]><![CDATA[>b]]></Item></Items></eExact>",
		`<?xml version="1.0"?><!-- c --><?pi x?><eExact><Items/></eExact>`,
		`<eExact><a b="1"c="2"/></eExact>`,
		`<eExact><a:b></a:b><x:y:z/></eExact>`,
		`<!DOCTYPE x><eExact/>`,
		`<eExact><Items><Item code="&#xD800;"/></Items></eExact>`,
		`<eExact></eExact> trailing`,
		`<eExact><Items><Item code="x"><Description>é</Description></Item></Items></eExact>`,
	} {
		f.Add([]byte(s))
	}
}

// FuzzDifferential compares the scanner with encoding/xml (Strict, no entity
// map) on UTF-8 input. If encoding/xml refuses, we must refuse. If it
// accepts, we must produce the same tokens and the same records as for its
// reading of the input, or refuse with a documented deliberate difference
// (KindRefused or KindLimit; see the package documentation).
func FuzzDifferential(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) || bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
			return // encoding/xml neither strips a BOM nor checks UTF-8 everywhere
		}
		if d, _ := declaredEncoding(data); d != "" && !strings.EqualFold(d, "utf-8") {
			return // encoding/xml needs a CharsetReader for these
		}
		std, stdErr := stdEvents(data)
		ours, ourErr := ourEvents(data)
		if stdErr != nil {
			if ourErr == nil {
				t.Fatalf("encoding/xml refuses (%v), we accept %q", stdErr, data)
			}
			return
		}
		if ourErr != nil {
			var se *SyntaxError
			if errors.As(ourErr, &se) && (se.Kind == KindRefused || se.Kind == KindLimit) {
				return // deliberate difference
			}
			t.Fatalf("encoding/xml accepts, we refuse: %v\ninput %q", ourErr, data)
		}
		a, _ := json.Marshal(std)
		b, _ := json.Marshal(ours)
		if !bytes.Equal(a, b) {
			t.Fatalf("tokens differ\nstd  %s\nours %s\ninput %q", a, b, data)
		}
		// Records: the raw input and encoding/xml's reading of it must give
		// the same records (or the same refusal of a value).
		r1, e1 := allRecords(data)
		r2, e2 := allRecords(serialize(std))
		if r1 != r2 || (e1 == nil) != (e2 == nil) {
			t.Fatalf("records differ:\n%s (%v)\n%s (%v)\ninput %q", r1, e1, r2, e2, data)
		}
	})
}

func fuzzReader(f *testing.F, read func([]byte) error) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		err := read(data)
		if err == nil {
			return
		}
		var se *SyntaxError
		var fe *FormatError
		var ve *ValueError
		if !errors.As(err, &se) && !errors.As(err, &fe) && !errors.As(err, &ve) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		if !strings.Contains(err.Error(), "line ") {
			t.Fatalf("error without position: %v", err)
		}
	})
}

// FuzzReadItems checks ReadItems never panics and always says where.
func FuzzReadItems(f *testing.F) {
	fuzzReader(f, func(b []byte) error {
		return ReadItems(bytes.NewReader(b), Options{}, func(*Item) error { return nil })
	})
}

// FuzzReadItemPrices checks ReadItemPrices never panics and always says where.
func FuzzReadItemPrices(f *testing.F) {
	fuzzReader(f, func(b []byte) error {
		return ReadItemPrices(bytes.NewReader(b), Options{}, func(*ItemPrice) error { return nil })
	})
}

// FuzzReadAccounts checks ReadAccounts never panics and always says where.
func FuzzReadAccounts(f *testing.F) {
	fuzzReader(f, func(b []byte) error {
		return ReadAccounts(bytes.NewReader(b), Options{}, func(*Account) error { return nil })
	})
}
