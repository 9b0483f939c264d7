// Package textenc turns the byte encodings Exact Globe writes (UTF-8,
// UTF-16 with a byte order mark, Windows-1252, ISO-8859-1 and ISO-8859-15)
// into a stream of valid UTF-8.
//
// Decoding is strict: bytes that contradict the declared encoding are never
// replaced by U+FFFD. Invalid UTF-8, unpaired UTF-16 surrogates, a truncated
// final character and single-byte codes that the declared code page does not
// define all make the reader fail with a *DecodeError naming the byte offset
// in the input. The UTF-8 path validates the caller's buffer in place and
// copies nothing in the common case.
package textenc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// ErrInvalidUTF8 is wrapped by the *DecodeError returned for bytes that are
// not valid UTF-8 when UTF-8 is declared or assumed.
var ErrInvalidUTF8 = errors.New("invalid UTF-8")

// ErrInvalidUTF16 is wrapped by the *DecodeError returned for an unpaired
// surrogate or an odd trailing byte in UTF-16 input.
var ErrInvalidUTF16 = errors.New("invalid UTF-16")

// ErrUndefinedByte is wrapped by the *DecodeError returned for a byte that the
// declared single-byte code page does not define.
var ErrUndefinedByte = errors.New("byte not defined in the declared encoding")

// ErrUnknownEncoding is wrapped by the error Decode returns for a label it
// does not support.
var ErrUnknownEncoding = errors.New("unsupported encoding")

// ErrBOMMismatch is returned by Decode when the input starts with a byte order
// mark of a different encoding than the declared label.
var ErrBOMMismatch = errors.New("byte order mark contradicts the declared encoding")

// DecodeError reports bytes that contradict the encoding being decoded.
type DecodeError struct {
	Encoding string // canonical label: "utf-8", "utf-16le", "windows-1252", ...
	Offset   int64  // byte offset in the original input (a BOM counts)
	Msg      string // what was found, e.g. "byte 0xff"
	Err      error  // ErrInvalidUTF8, ErrInvalidUTF16 or ErrUndefinedByte
}

// Error implements error.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s: %v at byte offset %d: %s", e.Encoding, e.Err, e.Offset, e.Msg)
}

// Unwrap returns the sentinel error (ErrInvalidUTF8, ...).
func (e *DecodeError) Unwrap() error { return e.Err }

// Canonical returns the canonical name of a supported label ("utf-8",
// "utf-16", "utf-16le", "utf-16be", "windows-1252", "iso-8859-1",
// "iso-8859-15"), or "" with ok false for an unknown label. Matching ignores
// case and surrounding space; "" is not a label.
func Canonical(label string) (canon string, ok bool) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8":
		return "utf-8", true
	case "utf-16", "utf16":
		return "utf-16", true
	case "utf-16le", "utf16le":
		return "utf-16le", true
	case "utf-16be", "utf16be":
		return "utf-16be", true
	case "windows-1252", "cp1252", "win-1252", "windows1252":
		return "windows-1252", true
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "iso_8859-1":
		return "iso-8859-1", true
	case "iso-8859-15", "iso8859-15", "latin9", "latin-9", "iso_8859-15":
		return "iso-8859-15", true
	}
	return "", false
}

// Sniff reports the encoding named by a byte order mark at the start of
// prefix ("utf-8", "utf-16le" or "utf-16be") and the BOM's length, or ("", 0)
// when prefix does not start with a BOM.
func Sniff(prefix []byte) (label string, bomLen int) {
	switch {
	case len(prefix) >= 3 && prefix[0] == 0xEF && prefix[1] == 0xBB && prefix[2] == 0xBF:
		return "utf-8", 3
	case len(prefix) >= 2 && prefix[0] == 0xFF && prefix[1] == 0xFE:
		return "utf-16le", 2
	case len(prefix) >= 2 && prefix[0] == 0xFE && prefix[1] == 0xFF:
		return "utf-16be", 2
	}
	return "", 0
}

// Decode returns a reader yielding UTF-8. label is a declared or configured
// encoding; "" means detect: a BOM selects UTF-8, UTF-16LE or UTF-16BE,
// otherwise UTF-8. Supported labels (case-insensitive): utf-8, utf8, utf-16,
// utf-16le, utf-16be, windows-1252, cp1252, iso-8859-1, latin1, iso-8859-15,
// latin9. An unknown label is an error naming it. A BOM is always stripped; a
// BOM contradicting the label is an error (ErrBOMMismatch). "utf-16" requires
// a BOM. Bytes that contradict the encoding make the returned reader fail with
// a *DecodeError.
//
// ISO-8859-1 and ISO-8859-15 bytes 0x80-0x9F (C1 control codes) are refused:
// in practice they mean a Windows-1252 file mislabelled as Latin-1.
func Decode(r io.Reader, label string) (io.Reader, error) {
	canon := ""
	if label != "" {
		var ok bool
		if canon, ok = Canonical(label); !ok {
			return nil, fmt.Errorf("%w %q", ErrUnknownEncoding, label)
		}
	}
	// Peek at most 3 bytes for a BOM.
	var head [3]byte
	n, err := io.ReadFull(r, head[:])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	bom, bomLen := Sniff(head[:n])
	rest := head[bomLen:n]
	switch {
	case canon == "":
		canon = bom
		if canon == "" {
			canon = "utf-8"
		}
	case canon == "utf-16":
		if bom != "utf-16le" && bom != "utf-16be" {
			return nil, fmt.Errorf("textenc: utf-16 declared without a byte order mark")
		}
		canon = bom
	case bom != "" && bom != canon:
		return nil, fmt.Errorf("%w: %s BOM, %s declared", ErrBOMMismatch, bom, canon)
	}
	src := io.MultiReader(bytes.NewReader(append([]byte(nil), rest...)), r)
	if len(rest) == 0 {
		src = r
	}
	off := int64(bomLen)
	var inner io.Reader
	switch canon {
	case "utf-8":
		inner = &utf8Reader{r: src, off: off}
	case "utf-16le":
		inner = &utf16Reader{r: src, off: off, be: false, name: canon}
	case "utf-16be":
		inner = &utf16Reader{r: src, off: off, be: true, name: canon}
	case "windows-1252":
		inner = newSingle(src, off, canon, charmap.Windows1252, false)
	case "iso-8859-1":
		inner = newSingle(src, off, canon, charmap.ISO8859_1, true)
	case "iso-8859-15":
		inner = newSingle(src, off, canon, charmap.ISO8859_15, true)
	default:
		panic("textenc: unreachable " + canon)
	}
	return &guard{r: inner}, nil
}

// minRead is the smallest buffer the decoders are handed: room for two
// complete UTF-8 characters.
const minRead = 2 * utf8.UTFMax

// guard stages reads into tiny buffers so the decoders can assume room for
// at least one whole character.
type guard struct {
	r     io.Reader
	small [64]byte
	ready []byte
}

func (g *guard) Read(p []byte) (int, error) {
	if len(g.ready) > 0 {
		n := copy(p, g.ready)
		g.ready = g.ready[n:]
		return n, nil
	}
	if len(p) == 0 || len(p) >= minRead {
		return g.r.Read(p)
	}
	n, err := g.r.Read(g.small[:])
	g.ready = g.small[:n]
	m := copy(p, g.ready)
	g.ready = g.ready[m:]
	if m > 0 {
		return m, nil
	}
	return 0, err
}

// utf8Reader validates UTF-8 in the caller's buffer. Up to 3 bytes of a rune
// split across reads are carried to the next call.
type utf8Reader struct {
	r       io.Reader
	off     int64 // input offset of the first byte not yet returned
	carry   [utf8.UTFMax]byte
	ncarry  int
	err     error
	srcDone bool
}

func (u *utf8Reader) Read(p []byte) (int, error) {
	if u.err != nil {
		return 0, u.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	return u.fill(p)
}

// fill reads into p (len(p) >= minRead) and returns only complete, valid UTF-8.
func (u *utf8Reader) fill(p []byte) (int, error) {
	for {
		n := copy(p, u.carry[:u.ncarry])
		u.ncarry = 0
		var err error
		if !u.srcDone {
			var m int
			m, err = u.r.Read(p[n:])
			n += m
			if err == io.EOF {
				u.srcDone = true
				err = nil
			} else if err != nil {
				u.err = err
			}
		}
		buf := p[:n]
		cut := n
		if !u.srcDone {
			cut = completePrefix(buf)
		}
		if !utf8.Valid(buf[:cut]) {
			i := firstInvalid(buf[:cut])
			u.err = u.errAt(buf, i)
			if i > 0 {
				u.off += int64(i)
				return i, nil
			}
			return 0, u.err
		}
		u.ncarry = copy(u.carry[:], buf[cut:])
		u.off += int64(cut)
		if cut > 0 || u.err != nil {
			return cut, u.err
		}
		if u.srcDone {
			u.err = io.EOF
			return 0, io.EOF
		}
	}
}

func (u *utf8Reader) errAt(buf []byte, i int) error {
	end := min(i+4, len(buf))
	msg := fmt.Sprintf("bytes % x", buf[i:end])
	if u.srcDone && utf8.RuneStart(buf[i]) && !utf8.FullRune(buf[i:]) {
		msg = fmt.Sprintf("truncated character % x at end of input", buf[i:])
	}
	return &DecodeError{Encoding: "utf-8", Offset: u.off + int64(i), Msg: msg, Err: ErrInvalidUTF8}
}

// completePrefix returns the length of buf without a trailing incomplete
// (but so far plausible) multi-byte sequence.
func completePrefix(buf []byte) int {
	n := len(buf)
	for i := n - 1; i >= 0 && i >= n-utf8.UTFMax+1; i-- {
		c := buf[i]
		if c < 0x80 {
			return n
		}
		if c >= 0xC0 { // lead byte
			if utf8.FullRune(buf[i:]) {
				return n
			}
			return i
		}
	}
	return n
}

func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

const srcBufSize = 32 << 10

// utf16Reader decodes UTF-16 strictly.
type utf16Reader struct {
	r       io.Reader
	name    string
	be      bool
	off     int64 // input offset of buf[start]
	buf     []byte
	start   int
	end     int
	srcDone bool
	err     error
}

func (u *utf16Reader) unit(i int) uint16 {
	if u.be {
		return uint16(u.buf[i])<<8 | uint16(u.buf[i+1])
	}
	return uint16(u.buf[i+1])<<8 | uint16(u.buf[i])
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	if u.buf == nil {
		u.buf = make([]byte, srcBufSize)
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n := u.decode(p)
		if n > 0 {
			return n, nil
		}
		if u.err != nil {
			return 0, u.err
		}
		if u.srcDone {
			if u.end > u.start {
				u.err = &DecodeError{Encoding: u.name, Offset: u.off, Msg: "odd trailing byte", Err: ErrInvalidUTF16}
			} else {
				u.err = io.EOF
			}
			continue
		}
		u.end = copy(u.buf, u.buf[u.start:u.end])
		u.start = 0
		m, err := u.r.Read(u.buf[u.end:])
		u.end += m
		if err == io.EOF {
			u.srcDone = true
		} else if err != nil {
			u.err = err
		}
	}
}

// decode converts buffered code units into p; len(p) >= utf8.UTFMax.
func (u *utf16Reader) decode(p []byte) int {
	n := 0
	for u.end-u.start >= 2 {
		c := u.unit(u.start)
		switch {
		case c < 0x80:
			if n >= len(p) {
				return n
			}
			p[n] = byte(c)
			n++
			u.start += 2
			u.off += 2
		case c >= 0xD800 && c < 0xDC00:
			if u.end-u.start < 4 {
				if u.srcDone && u.err == nil {
					u.err = &DecodeError{Encoding: u.name, Offset: u.off, Msg: fmt.Sprintf("high surrogate %#04x at end of input", c), Err: ErrInvalidUTF16}
				}
				return n
			}
			c2 := u.unit(u.start + 2)
			if c2 < 0xDC00 || c2 > 0xDFFF {
				u.err = &DecodeError{Encoding: u.name, Offset: u.off, Msg: fmt.Sprintf("high surrogate %#04x not followed by a low surrogate", c), Err: ErrInvalidUTF16}
				return n
			}
			if n+4 > len(p) {
				return n
			}
			r := (rune(c)-0xD800)<<10 | (rune(c2) - 0xDC00) + 0x10000
			n += utf8.EncodeRune(p[n:], r)
			u.start += 4
			u.off += 4
		case c >= 0xDC00 && c <= 0xDFFF:
			u.err = &DecodeError{Encoding: u.name, Offset: u.off, Msg: fmt.Sprintf("unpaired low surrogate %#04x", c), Err: ErrInvalidUTF16}
			return n
		default:
			if n+utf8.RuneLen(rune(c)) > len(p) {
				return n
			}
			n += utf8.EncodeRune(p[n:], rune(c))
			u.start += 2
			u.off += 2
		}
	}
	return n
}

// singleReader decodes a single-byte code page through a lookup table.
type singleReader struct {
	r       io.Reader
	name    string
	tab     *[256][4]byte // UTF-8 bytes; [3] holds the length, 0 = undefined
	off     int64
	buf     []byte
	start   int
	end     int
	srcDone bool
	err     error
}

func newSingle(r io.Reader, off int64, name string, cm *charmap.Charmap, noC1 bool) *singleReader {
	tab := new([256][4]byte)
	for b := 0; b < 256; b++ {
		ru := cm.DecodeByte(byte(b))
		if ru == utf8.RuneError || (noC1 && b >= 0x80 && b <= 0x9F) {
			continue
		}
		l := utf8.EncodeRune(tab[b][:3], ru)
		tab[b][3] = byte(l)
	}
	return &singleReader{r: r, name: name, tab: tab, off: off}
}

func (s *singleReader) Read(p []byte) (int, error) {
	if s.buf == nil {
		s.buf = make([]byte, srcBufSize)
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n := 0
		tab := s.tab
		i := s.start
		for i < s.end {
			c := s.buf[i]
			if c < 0x80 {
				if n >= len(p) {
					break
				}
				p[n] = c
				n++
				i++
				continue
			}
			e := &tab[c]
			l := int(e[3])
			if l == 0 {
				s.off += int64(i - s.start)
				s.start = i
				s.err = &DecodeError{Encoding: s.name, Offset: s.off, Msg: fmt.Sprintf("byte %#02x", c), Err: ErrUndefinedByte}
				if c >= 0x80 && c <= 0x9F && s.name != "windows-1252" {
					s.err.(*DecodeError).Msg += " (a C1 control code; is the file really windows-1252?)"
				}
				if n > 0 {
					return n, nil
				}
				return 0, s.err
			}
			if n+l > len(p) {
				break
			}
			copy(p[n:], e[:l])
			n += l
			i++
		}
		s.off += int64(i - s.start)
		s.start = i
		if n > 0 {
			return n, nil
		}
		if s.err != nil {
			return 0, s.err
		}
		if s.srcDone {
			s.err = io.EOF
			return 0, io.EOF
		}
		m, err := s.r.Read(s.buf)
		s.start, s.end = 0, m
		if err == io.EOF {
			s.srcDone = true
		} else if err != nil {
			s.err = err
			if m == 0 {
				return 0, err
			}
		}
	}
}
