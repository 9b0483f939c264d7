// Package globe reads Exact Globe+ eExact XML exports (topics Items,
// ItemPrices and Accounts) as streams of records.
//
// The readers are strict about XML and lenient about Globe: input that is not
// well-formed, is truncated, or contradicts its declared encoding is an error
// (a *SyntaxError with line and column) and the caller is expected to throw
// the whole export away; unknown elements and attributes are ignored, codes
// are trimmed of the padding Globe writes, booleans may be 0/1/true/false and
// dates may carry a time.
//
// Records are handed to a callback one at a time and memory does not grow
// with the size of the export: an embedded base64 image is validated and
// skipped, never held. A record passed to the callback, and its slices, are
// reused for the next record: copy what you keep (see Item.Clone). Strings
// are safe to keep.
//
// Deliberate differences from encoding/xml (Strict, no entity map): a
// DOCTYPE or any other <!...> declaration is refused (no entity is ever
// expanded); exactly one root element is required, with only white space,
// comments and processing instructions around it; the XML declaration must
// come first and carry version="1.0"; element and attribute names must be
// ASCII; duplicate attributes and attributes not separated by white space
// are refused; character references to surrogates are refused (encoding/xml
// turns them into U+FFFD); nesting depth and tag size are bounded. Such
// refusals are SyntaxErrors of kind KindRefused or KindLimit. Namespaces are
// not interpreted: names are matched as written (eExact uses none).
package globe

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"globex/internal/textenc"
)

// Options tune the readers. The zero value is ready to use.
type Options struct {
	// Encoding is assumed when the export has neither a byte order mark nor
	// an encoding in its XML declaration. "" means UTF-8. A declared
	// encoding or a BOM always wins.
	Encoding string
	// MaxDepth bounds element nesting (default 256).
	MaxDepth int
	// MaxText bounds the text of one field that is kept (default 1 MiB).
	// Text that is skipped (an embedded image) is not bounded.
	MaxText int
	// MaxTag bounds one start or end tag including its attributes
	// (default 1 MiB).
	MaxTag int
	// Idle, when set, is called on the caller's goroutine while it waits for
	// the parser (pipelined reading only): a small piece of unrelated work,
	// such as checksumming the input. It returns false once it has nothing
	// more to do and is not called again.
	Idle func() bool
}

const defaultMaxText = 1 << 20

// FormatError reports a well-formed document that is not the expected
// export: another root element, or the requested topic missing.
type FormatError struct {
	Line, Col int
	Msg       string
}

// Error implements error.
func (e *FormatError) Error() string {
	return fmt.Sprintf("globe: line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

const peekSize = 1024

// decodeInput chooses the encoding from the BOM, the XML declaration or
// opt.Encoding, and returns a reader yielding validated UTF-8.
func decodeInput(r io.Reader, opt Options) (io.Reader, error) {
	head := make([]byte, peekSize)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	head = head[:n]
	encErr := func(format string, args ...any) error {
		return &SyntaxError{Line: 1, Col: 1, Kind: KindEncoding, Msg: fmt.Sprintf(format, args...)}
	}
	bom, bomLen := textenc.Sniff(head)
	if bom == "" && len(head) >= 4 && (head[0] == '<' && head[1] == 0 && head[2] == '?' && head[3] == 0 ||
		head[0] == 0 && head[1] == '<' && head[2] == 0 && head[3] == '?') {
		return nil, encErr("the export looks like UTF-16 without a byte order mark; Globe writes UTF-16 with one")
	}
	ascii := head[bomLen:]
	if bom == "utf-16le" || bom == "utf-16be" {
		ascii = asciiOfUTF16(ascii, bom == "utf-16be")
	}
	declared, err := declaredEncoding(ascii)
	if err != nil {
		return nil, encErr("%v", err)
	}
	label := ""
	switch {
	case bom != "":
		label = bom
		if declared != "" {
			canon, ok := textenc.Canonical(declared)
			if !ok {
				return nil, encErr("unsupported encoding %q declared", declared)
			}
			if canon != bom && !(canon == "utf-16" && bom != "utf-8") {
				return nil, encErr("encoding %q declared but the export starts with a %s byte order mark", declared, strings.ToUpper(bom))
			}
		}
	case declared != "":
		label = declared
	default:
		label = opt.Encoding
	}
	if label != "" {
		if _, ok := textenc.Canonical(label); !ok {
			return nil, encErr("unsupported encoding %q", label)
		}
	}
	dec, err := textenc.Decode(io.MultiReader(bytes.NewReader(head), r), label)
	if err != nil {
		return nil, encErr("%v", err)
	}
	return dec, nil
}

// asciiOfUTF16 projects the ASCII code units of UTF-16 text to bytes,
// stopping at the first non-ASCII unit.
func asciiOfUTF16(b []byte, be bool) []byte {
	out := make([]byte, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		lo, hi := b[i], b[i+1]
		if be {
			lo, hi = hi, lo
		}
		if hi != 0 || lo >= 0x80 {
			break
		}
		out = append(out, lo)
	}
	return out
}

// declaredEncoding returns the encoding="..." of an XML declaration at the
// start of b, or "".
func declaredEncoding(b []byte) (string, error) {
	if !bytes.HasPrefix(b, []byte("<?xml")) || len(b) < 6 || !isSpace(b[5]) {
		return "", nil
	}
	e := bytes.Index(b, []byte("?>"))
	if e < 0 {
		return "", nil // the scanner reports the broken declaration
	}
	decl := b[5:e]
	k := bytes.Index(decl, []byte("encoding"))
	if k < 0 {
		return "", nil
	}
	rest := bytes.TrimLeft(decl[k+len("encoding"):], " \t\r\n")
	if len(rest) == 0 || rest[0] != '=' {
		return "", nil
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || (rest[0] != '"' && rest[0] != '\'') {
		return "", nil
	}
	q := rest[0]
	v := bytes.IndexByte(rest[1:], q)
	if v < 0 {
		return "", nil
	}
	enc := string(rest[1 : 1+v])
	if enc == "" {
		return "", fmt.Errorf("empty encoding in the XML declaration")
	}
	return enc, nil
}

// handler receives the elements inside one record. rel is the path below the
// record element, the last entry being the current element.
type handler interface {
	begin(w *walker)                       // record start tag (attributes in w.s)
	start(w *walker, rel []elem) bool      // returns true to capture the text
	end(w *walker, rel []elem, txt []byte) // end of an element (txt if captured)
	finish(w *walker) error                // record end tag: deliver
}

// walker drives the scanner and tracks the element path.
type walker struct {
	s        *scanner
	opt      Options
	path     []elem
	capDepth int
	capBuf   []byte
	recLine  int
	err      error // first value error of the current record
	cntDepth int   // depth whose text is only counted (an embedded image)
	cnt      int64
	strs     map[string]string // see intern
	skip     bool              // set by handler.start: skip the element's subtree
}

// run reads the document and calls h for each record element
// <eExact><topic><rec>.
func run(r io.Reader, opt Options, topic, rec elem, h handler) error {
	dec, err := decodeInput(r, opt)
	if err != nil {
		return err
	}
	if opt.MaxText <= 0 {
		opt.MaxText = defaultMaxText
	}
	w := &walker{s: newScanner(dec, opt.MaxDepth, opt.MaxTag), opt: opt, path: make([]elem, 0, 16)}
	s := w.s
	topicSeen := false
	inRec := false
	for {
		k, err := s.next()
		if err != nil {
			return err
		}
		switch k {
		case tokStart:
			id := lookup(s.name)
			w.path = append(w.path, id)
			switch d := len(w.path); {
			case d > 3 && inRec:
				if h.start(w, w.path[3:]) {
					w.capDepth = d
					w.capBuf = w.capBuf[:0]
				}
				if w.err != nil {
					return w.err
				}
				if w.skip {
					// The handler wants nothing below: check the subtree
					// without handing out its tokens.
					w.skip = false
					s.wantText = false
					if err := s.skipElement(); err != nil {
						return err
					}
					w.path = w.path[:d-1]
					s.wantText = w.capDepth == d-1 || w.cntDepth == d-1
					continue
				}
			case d == 3:
				if w.path[1] == topic && id == rec {
					inRec = true
					w.err = nil
					w.recLine, _ = s.posAt(s.tokPos)
					h.begin(w)
				}
			case d == 2:
				if id == topic {
					topicSeen = true
				}
			case d == 1:
				if id != eExact {
					line, col := s.posAt(s.tokPos)
					return &FormatError{Line: line, Col: col, Msg: fmt.Sprintf("root element is <%s>, not <eExact>", s.name)}
				}
			}
			s.wantText = w.capDepth == len(w.path) || w.cntDepth == len(w.path)
		case tokEnd:
			d := len(w.path)
			if inRec {
				if d > 3 {
					var txt []byte
					if w.capDepth == d {
						txt = w.capBuf
						w.capDepth = 0
					}
					h.end(w, w.path[3:], txt)
					if w.err != nil {
						return w.err
					}
				} else if d == 3 {
					inRec = false
					if err := h.finish(w); err != nil {
						return err
					}
				}
			}
			w.path = w.path[:d-1]
			s.wantText = w.capDepth == d-1 || w.cntDepth == d-1
		case tokText:
			if w.capDepth == len(w.path) {
				if len(w.capBuf)+len(s.text) > opt.MaxText {
					line, col := s.posAt(s.tokPos)
					return &SyntaxError{Line: line, Col: col, Kind: KindLimit,
						Msg: fmt.Sprintf("text of <%s> longer than %d bytes", s.top(), opt.MaxText)}
				}
				w.capBuf = append(w.capBuf, s.text...)
			} else if w.cntDepth == len(w.path) {
				w.cnt += int64(len(s.text))
			}
		case tokEOF:
			if !topicSeen {
				line, col := s.posAt(s.end)
				return &FormatError{Line: line, Col: col, Msg: fmt.Sprintf("no <%s> in the export", elemNames[topic])}
			}
			return nil
		}
	}
}

// fail records the first value error of the current record.
func (w *walker) fail(recKind, recKey string, field string, val []byte, err error) {
	if w.err != nil {
		return
	}
	line, col := w.s.posAt(w.s.tokPos)
	w.err = &ValueError{Line: line, Col: col, Record: fmt.Sprintf("%s %q (line %d)", recKind, recKey, w.recLine), Field: field, Value: cut64(val), Err: err}
}

// number parses the number attribute of the current element (a free
// field's, a category's, a quantity break's); a bad value is reported
// with the record handler's fail, as field@number.
func (w *walker) number(fail func(w *walker, field string, val []byte, err error), field string) int {
	v := w.attr("number")
	n, err := parseInt(v)
	if err != nil {
		fail(w, field+"@number", v, err)
	}
	return n
}

// isFreeField reports whether FreeFields/group/field is a free field
// (FreeTexts/FreeText, FreeNumbers/FreeNumber, …).
func isFreeField(group, field elem) bool {
	return group == eFreeTexts && field == eFreeText || group == eFreeNumbers && field == eFreeNumber ||
		group == eFreeYesNos && field == eFreeYesNo || group == eFreeDates && field == eFreeDate ||
		group == eFreeOptions && field == eFreeOption
}

// attr returns the trimmed value of an attribute of the current start tag.
func (w *walker) attr(name string) []byte {
	v, _ := w.s.attr(name)
	return trim(v)
}

// intern returns the trimmed value as a string, reusing an earlier string
// for values that repeat (currencies, units, types, labels, group codes).
func (w *walker) intern(b []byte) string {
	b = trim(b)
	if len(b) == 0 {
		return ""
	}
	if len(b) > 32 {
		return string(b)
	}
	if v, ok := w.strs[string(b)]; ok {
		return v
	}
	v := string(b)
	if len(w.strs) < 4096 {
		if w.strs == nil {
			w.strs = make(map[string]string)
		}
		w.strs[v] = v
	}
	return v
}

// str returns the trimmed value as a string.
func str(b []byte) string {
	b = trim(b)
	if len(b) == 0 {
		return ""
	}
	return string(b)
}
