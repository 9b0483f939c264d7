package globe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"unicode/utf8"
)

// tokKind is the kind of token the scanner returns.
type tokKind uint8

const (
	tokStart tokKind = iota + 1 // start tag: s.name, s.attrs
	tokEnd                      // end tag (also after a self-closing start tag): s.name
	tokText                     // character data, possibly one chunk of a longer run: s.text
	tokEOF                      // end of a well-formed document
)

// errMore is internal: the token continues past the buffered data.
var errMore = errors.New("need more data")

// attr is one attribute of the current start tag. Slices are valid until the
// next call to scanner.next.
type attr struct {
	name, value []byte
}

// pend locates an unescaped attribute value in scratch (vs < 0: none).
type pend struct{ vs, ve int }

// scanner is a strict, streaming XML 1.0 tokenizer over UTF-8 text (the
// decoder in front of it has already validated the encoding). It checks
// well-formedness as it goes: tag balance, name and attribute syntax,
// references (the five predefined entities and numeric character references
// only), the XML character range, a single root element with only comments,
// processing instructions and white space around it. Document type
// declarations are refused, so no entity is ever expanded. Nesting depth,
// the size of one tag and the size of the buffered window are bounded.
//
// Character data is returned in chunks when it does not fit in the buffer, so
// a huge text node (an embedded image) never has to be held in memory.
type scanner struct {
	r      io.Reader
	buf    []byte
	pos    int // next unread byte
	end    int // end of buffered data
	srcEOF bool
	rerr   error // read or decode error, reported once buffered data is consumed

	// Line tracking: newlines in buf[:nlPos] are counted in nlLine.
	line0      int   // line number of buf[0]
	lineStart0 int64 // absolute offset of the start of line line0
	off0       int64 // absolute offset of buf[0]
	nlPos      int
	nlLine     int
	nlStart    int64 // absolute offset of the start of line nlLine

	// Element stack: names concatenated in stack, ends in stackEnds.
	stack     []byte
	stackEnds []int

	// Current token.
	name       []byte
	attrs      []attr
	text       []byte
	tokPos     int // buf index of the token's first byte
	scratch    []byte
	pendingEnd bool
	rootSeen   bool
	rootDone   bool
	cdataOpen  bool // the previous text chunk ended inside a CDATA section
	pends      []pend
	wantText   bool // return character data in elements; when false it is only checked
	atStart    bool // nothing consumed yet: an XML declaration may follow

	maxDepth int
	maxTag   int // largest start tag, end tag or unparsed chunk held at once
}

const (
	defaultBufSize  = 64 << 10
	defaultMaxDepth = 256
	defaultMaxTag   = 1 << 20
	maxAttrs        = 256
	textChunkMin    = 4 << 10 // return a text chunk early once this much is buffered
)

func newScanner(r io.Reader, maxDepth, maxTag int) *scanner {
	if maxDepth <= 0 {
		maxDepth = defaultMaxDepth
	}
	if maxTag <= 0 {
		maxTag = defaultMaxTag
	}
	return &scanner{
		r: r, buf: make([]byte, defaultBufSize), line0: 1, nlLine: 1,
		maxDepth: maxDepth, maxTag: maxTag, atStart: true,
		attrs: make([]attr, 0, 8), stack: make([]byte, 0, 256), stackEnds: make([]int, 0, 16),
	}
}

// SyntaxError reports input that is not well-formed XML, is refused on
// purpose (a DOCTYPE, content outside the root element), exceeds a limit
// (nesting depth, tag or text size), or is not valid in its declared
// encoding. Line and Col are 1-based; Col counts characters of the decoded
// text (bytes on a line longer than the read buffer).
type SyntaxError struct {
	Line, Col int
	Msg       string
	Kind      ErrorKind
	Err       error // underlying error (a *textenc.DecodeError), or nil
}

// ErrorKind classifies a SyntaxError.
type ErrorKind uint8

const (
	// KindSyntax: the input is not well-formed XML 1.0.
	KindSyntax ErrorKind = iota
	// KindRefused: well-formed for encoding/xml, but refused on purpose: a
	// DOCTYPE or other <!...> declaration, content or a second element
	// outside the root, a missing root, a misplaced or incomplete XML
	// declaration, non-ASCII element or attribute names, duplicate
	// attributes, missing white space between attributes, character
	// references to surrogates.
	KindRefused
	// KindLimit: a configured bound was exceeded (depth, tag size, text size).
	KindLimit
	// KindEncoding: the bytes contradict the declared encoding, or the
	// encoding is unsupported or contradicted by a byte order mark.
	KindEncoding
)

// Error implements error.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("xml: line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

// Unwrap returns the underlying decoding error, if any.
func (e *SyntaxError) Unwrap() error { return e.Err }

// posAt returns the line and column of buf index p. A p before the buffer
// (the "<![CDATA[" of a section whose content starts a new read) counts as
// its first byte.
func (s *scanner) posAt(p int) (line, col int) {
	if p > s.end {
		p = s.end
	}
	if p < 0 {
		p = 0
	}
	if p < s.nlPos {
		s.nlPos, s.nlLine, s.nlStart = 0, s.line0, s.lineStart0
	}
	seg := s.buf[s.nlPos:p]
	if n := bytes.Count(seg, nl); n > 0 {
		s.nlLine += n
		s.nlStart = s.off0 + int64(s.nlPos+bytes.LastIndexByte(seg, '\n')+1)
	}
	s.nlPos = p
	ls := int(s.nlStart - s.off0)
	if ls >= 0 {
		return s.nlLine, utf8.RuneCount(s.buf[ls:p]) + 1
	}
	return s.nlLine, int(s.off0+int64(p)-s.nlStart) + 1
}

var nl = []byte{'\n'}

func (s *scanner) errAt(p int, kind ErrorKind, format string, args ...any) error {
	line, col := s.posAt(p)
	return &SyntaxError{Line: line, Col: col, Msg: fmt.Sprintf(format, args...), Kind: kind}
}

// fill reads more input, keeping buf[s.pos:]. It returns false at the end of
// input; a read error is returned as err.
func (s *scanner) fill() (bool, error) {
	if s.srcEOF {
		return false, nil
	}
	if s.rerr != nil {
		return false, s.readErr()
	}
	if s.pos > 0 {
		s.posAt(s.pos)
		n := copy(s.buf, s.buf[s.pos:s.end])
		s.off0 += int64(s.pos)
		s.line0, s.lineStart0 = s.nlLine, s.nlStart
		s.nlPos = 0
		s.tokPos -= s.pos
		s.end = n
		s.pos = 0
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= s.maxTag+defaultBufSize {
			return false, s.errAt(s.pos, KindLimit, "markup longer than %d bytes", s.maxTag)
		}
		nb := make([]byte, min(2*len(s.buf), s.maxTag+defaultBufSize))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for range 100 {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err == io.EOF {
			s.srcEOF = true
			return n > 0, nil
		}
		if err != nil {
			s.rerr = err
			if n > 0 {
				return true, nil
			}
			return false, s.readErr()
		}
		if n > 0 {
			return true, nil
		}
	}
	return false, io.ErrNoProgress
}

func (s *scanner) readErr() error {
	err := s.rerr
	line, col := s.posAt(s.end)
	var se *SyntaxError
	if errors.As(err, &se) {
		return err
	}
	kind := KindEncoding
	msg := err.Error()
	return &SyntaxError{Line: line, Col: col, Msg: msg, Kind: kind, Err: err}
}

// Character classes for the text loop: 0 = ordinary.
const (
	clsNone = iota
	clsLT
	clsAmp
	clsCR
	clsBracket
	clsEF
	clsCtl
	clsQuote
)

var textClass, attrClass [256]uint8

// nameByte: bit 1 = may start a name, bit 2 = may continue a name, bit 4 = colon.
var nameByte [256]uint8

func init() {
	for c := 0; c < 0x20; c++ {
		textClass[c] = clsCtl
	}
	textClass['\t'], textClass['\n'] = clsNone, clsNone
	textClass['<'] = clsLT
	textClass['&'] = clsAmp
	textClass['\r'] = clsCR
	textClass[']'] = clsBracket
	textClass[0xEF] = clsEF
	attrClass = textClass
	attrClass[']'] = clsNone
	attrClass['"'] = clsQuote
	attrClass['\''] = clsQuote
	for c := 0; c < 256; c++ {
		switch {
		case c == ':':
			nameByte[c] = 7
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c == '_':
			nameByte[c] = 3
		case c >= '0' && c <= '9', c == '.', c == '-':
			nameByte[c] = 2
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// next returns the next token. Text outside the root element (only white
// space is allowed there), comments and processing instructions are
// consumed silently.
func (s *scanner) next() (tokKind, error) {
	if s.pendingEnd {
		s.pendingEnd = false
		s.pop()
		return tokEnd, nil
	}
	for {
		if s.pos >= s.end {
			more, err := s.fill()
			if err != nil {
				return 0, err
			}
			if !more {
				return s.eof()
			}
			continue
		}
		s.tokPos = s.pos
		var k tokKind
		var err error
		if s.cdataOpen {
			s.cdataOpen = false
			k, err = s.cdata()
		} else if s.buf[s.pos] == '<' {
			k, err = s.markup()
		} else {
			k, err = s.chardata()
		}
		if err == errMore {
			if s.srcEOF {
				return 0, s.errAt(s.end, KindSyntax, "unexpected end of input%s", s.inElement())
			}
			if _, ferr := s.fill(); ferr != nil {
				return 0, ferr
			}
			continue
		}
		if err != nil || k != 0 {
			return k, err
		}
	}
}

func (s *scanner) inElement() string {
	if n := len(s.stackEnds); n > 0 {
		start := 0
		if n > 1 {
			start = s.stackEnds[n-2]
		}
		return fmt.Sprintf(" inside <%s>", s.stack[start:s.stackEnds[n-1]])
	}
	return ""
}

func (s *scanner) eof() (tokKind, error) {
	if len(s.stackEnds) > 0 {
		return 0, s.errAt(s.end, KindSyntax, "unexpected end of input: element <%s> not closed", s.top())
	}
	if !s.rootSeen {
		return 0, s.errAt(s.end, KindRefused, "no root element")
	}
	return tokEOF, nil
}

func (s *scanner) top() []byte {
	n := len(s.stackEnds)
	start := 0
	if n > 1 {
		start = s.stackEnds[n-2]
	}
	return s.stack[start:s.stackEnds[n-1]]
}

func (s *scanner) pop() {
	n := len(s.stackEnds)
	start := 0
	if n > 1 {
		start = s.stackEnds[n-2]
	}
	s.stack = s.stack[:start]
	s.stackEnds = s.stackEnds[:n-1]
	if n == 1 {
		s.rootDone = true
	}
}

// scanName returns the end of the name starting at b[i], errMore if the name
// may continue past the buffer, or an error.
func (s *scanner) scanName(i int, what string) (int, error) {
	b := s.buf[:s.end]
	if i >= len(b) {
		return 0, errMore
	}
	if nameByte[b[i]]&1 == 0 {
		if b[i] >= utf8.RuneSelf {
			return 0, s.errAt(i, KindRefused, "non-ASCII character in %s", what)
		}
		return 0, s.errAt(i, KindSyntax, "expected %s, found %s", what, quoteByte(b[i]))
	}
	j := i + 1
	flags := nameByte[b[i]]
	for j < len(b) {
		f := nameByte[b[j]]
		if f == 0 {
			break
		}
		flags |= f
		j++
	}
	if j == len(b) {
		return 0, errMore
	}
	if b[j] >= utf8.RuneSelf {
		return 0, s.errAt(j, KindRefused, "non-ASCII character in %s", what)
	}
	if flags&4 != 0 {
		if c := bytes.IndexByte(b[i:j], ':'); bytes.IndexByte(b[i+c+1:j], ':') >= 0 {
			return 0, s.errAt(i, KindSyntax, "invalid %s %q: more than one colon", what, b[i:j])
		}
	}
	return j, nil
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7F {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("byte %#02x", c)
}

func (s *scanner) skipSpace(i int) int {
	b := s.buf[:s.end]
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// markup parses a tag, comment, CDATA section or processing instruction at
// s.pos. It returns kind 0 for constructs that produce no token.
func (s *scanner) markup() (tokKind, error) {
	b := s.buf[:s.end]
	i := s.pos + 1
	if i >= len(b) {
		return 0, errMore
	}
	switch b[i] {
	case '/':
		return s.endTag()
	case '?':
		return s.procInst()
	case '!':
		return s.bang()
	}
	s.atStart = false
	if s.rootDone {
		return 0, s.errAt(s.pos, KindRefused, "second root element")
	}
	j, err := s.scanName(i, "element name")
	if err != nil {
		return 0, err
	}
	name := b[i:j]
	s.attrs = s.attrs[:0]
	s.scratch = s.scratch[:0]
	pends := s.pends[:0]
	for {
		k := s.skipSpace(j)
		if k >= len(b) {
			return 0, errMore
		}
		c := b[k]
		if c == '>' || c == '/' {
			if c == '/' {
				if k+1 >= len(b) {
					return 0, errMore
				}
				if b[k+1] != '>' {
					return 0, s.errAt(k+1, KindSyntax, "expected /> in element <%s>", name)
				}
				s.pendingEnd = true
				k++
			}
			j = k + 1
			break
		}
		if k == j {
			if nameByte[c]&1 != 0 {
				return 0, s.errAt(k, KindRefused, "missing white space before attribute in element <%s>", name)
			}
		}
		ae, err := s.scanName(k, "attribute name")
		if err != nil {
			if se, ok := err.(*SyntaxError); ok && se.Kind == KindSyntax {
				se.Msg += fmt.Sprintf(" in element <%s>", name)
			}
			return 0, err
		}
		an := b[k:ae]
		k = s.skipSpace(ae)
		if k >= len(b) {
			return 0, errMore
		}
		if b[k] != '=' {
			return 0, s.errAt(k, KindSyntax, "attribute %s without = in element <%s>", an, name)
		}
		k = s.skipSpace(k + 1)
		if k >= len(b) {
			return 0, errMore
		}
		q := b[k]
		if q != '"' && q != '\'' {
			return 0, s.errAt(k, KindSyntax, "unquoted or missing value of attribute %s in element <%s>", an, name)
		}
		vs := k + 1
		ve, clean, err := s.scanAttrValue(vs, q)
		if err != nil {
			return 0, err
		}
		if len(s.attrs) == maxAttrs {
			return 0, s.errAt(k, KindLimit, "more than %d attributes in element <%s>", maxAttrs, name)
		}
		for _, a := range s.attrs {
			if bytes.Equal(a.name, an) {
				return 0, s.errAt(k, KindRefused, "duplicate attribute %s in element <%s>", an, name)
			}
		}
		p := pend{-1, -1}
		if !clean {
			p.vs = len(s.scratch)
			s.scratch = s.unescape(s.scratch, b[vs:ve])
			p.ve = len(s.scratch)
		}
		pends = append(pends, p)
		s.attrs = append(s.attrs, attr{name: an, value: b[vs:ve]})
		j = ve + 1
	}
	s.pends = pends
	for n := range s.attrs {
		if p := pends[n]; p.vs >= 0 {
			s.attrs[n].value = s.scratch[p.vs:p.ve]
		}
	}
	if len(s.stackEnds) >= s.maxDepth {
		return 0, s.errAt(s.pos, KindLimit, "elements nested deeper than %d", s.maxDepth)
	}
	s.stack = append(s.stack, name...)
	s.stackEnds = append(s.stackEnds, len(s.stack))
	s.name = name
	s.rootSeen = true
	s.pos = j
	return tokStart, nil
}

// scanAttrValue scans a quoted value starting at b[i] up to the closing
// quote q. clean reports that the value needs no unescaping.
func (s *scanner) scanAttrValue(i int, q byte) (end int, clean bool, err error) {
	b := s.buf[:s.end]
	qi := bytes.IndexByte(b[i:], q)
	if qi < 0 {
		if s.srcEOF {
			return 0, false, s.errAt(s.end, KindSyntax, "unexpected end of input in an attribute value")
		}
		return 0, false, errMore
	}
	qi += i
	clean = true
	for {
		for _, c := range b[i:qi] {
			if attrClass[c] != clsNone {
				break
			}
			i++
		}
		if i == qi {
			return qi, clean, nil
		}
		switch attrClass[b[i]] {
		case clsQuote:
			i++
		case clsLT:
			return 0, false, s.errAt(i, KindSyntax, "unescaped < inside attribute value")
		case clsAmp:
			n, err := s.checkRef(i)
			if err != nil {
				return 0, false, err
			}
			if n > qi {
				// A reference cannot contain a quote; checkRef refused it.
				return 0, false, s.errAt(i, KindSyntax, "invalid character reference")
			}
			clean = false
			i = n
		case clsCR:
			clean = false
			i++
		case clsEF:
			if err := s.checkEF(i); err != nil {
				return 0, false, err
			}
			i++
		case clsCtl:
			return 0, false, s.errAt(i, KindSyntax, "illegal character code U+%04X", b[i])
		}
	}
}

// checkEF refuses U+FFFE and U+FFFF (EF BF BE / EF BF BF).
func (s *scanner) checkEF(i int) error {
	b := s.buf[:s.end]
	if i+2 >= len(b) {
		if s.srcEOF {
			return nil // a truncated sequence cannot pass the UTF-8 decoder
		}
		return errMore
	}
	if b[i+1] == 0xBF && (b[i+2] == 0xBE || b[i+2] == 0xBF) {
		return s.errAt(i, KindSyntax, "illegal character code U+FFF%c", "EF"[b[i+2]-0xBE])
	}
	return nil
}

// checkRef validates the reference starting with '&' at b[i] and returns the
// index after its ';'.
func (s *scanner) checkRef(i int) (int, error) {
	_, n, err := s.ref(i)
	return n, err
}

// ref decodes the reference at b[i] ('&').
func (s *scanner) ref(i int) (rune, int, error) {
	b := s.buf[:s.end]
	j := i + 1
	if j >= len(b) {
		return 0, 0, s.more(i)
	}
	if b[j] == '#' {
		j++
		base := rune(10)
		if j < len(b) && b[j] == 'x' {
			base = 16
			j++
		}
		var v rune
		digits := 0
		for ; j < len(b); j++ {
			c := b[j]
			var d rune
			switch {
			case c >= '0' && c <= '9':
				d = rune(c - '0')
			case base == 16 && c >= 'a' && c <= 'f':
				d = rune(c-'a') + 10
			case base == 16 && c >= 'A' && c <= 'F':
				d = rune(c-'A') + 10
			default:
				d = -1
			}
			if d < 0 {
				break
			}
			v = v*base + d
			digits++
			if v > utf8.MaxRune {
				return 0, 0, s.errAt(i, KindSyntax, "character reference out of range")
			}
		}
		if j >= len(b) {
			return 0, 0, s.more(i)
		}
		if b[j] != ';' || digits == 0 {
			return 0, 0, s.errAt(i, KindSyntax, "invalid character reference %q", refText(b[i:j+1]))
		}
		switch {
		case v >= 0xD800 && v <= 0xDFFF:
			return 0, 0, s.errAt(i, KindRefused, "character reference to surrogate U+%04X", v)
		case !isXMLChar(v):
			return 0, 0, s.errAt(i, KindSyntax, "illegal character code %U", v)
		}
		return v, j + 1, nil
	}
	for k := j; k < len(b) && k < j+5; k++ {
		if b[k] == ';' {
			var r rune
			switch string(b[j:k]) {
			case "lt":
				r = '<'
			case "gt":
				r = '>'
			case "amp":
				r = '&'
			case "apos":
				r = '\''
			case "quot":
				r = '"'
			default:
				return 0, 0, s.errAt(i, KindSyntax, "invalid character entity %q (only &lt; &gt; &amp; &apos; &quot; and numeric references are allowed)", refText(b[i:k+1]))
			}
			return r, k + 1, nil
		}
		if nameByte[b[k]] == 0 {
			break
		}
	}
	if len(b)-j < 5 && !s.srcEOF {
		return 0, 0, errMore
	}
	k := j
	for k < len(b) && k < j+20 && nameByte[b[k]] != 0 {
		k++
	}
	return 0, 0, s.errAt(i, KindSyntax, "invalid character entity %q", refText(b[i:k]))
}

func refText(b []byte) string {
	if len(b) > 24 {
		b = b[:24]
	}
	return string(b)
}

func (s *scanner) more(i int) error {
	if s.srcEOF {
		return s.errAt(i, KindSyntax, "unexpected end of input in a reference")
	}
	return errMore
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// unescape appends src with references decoded and line ends normalized
// (\r\n and lone \r become \n). src has been validated.
func (s *scanner) unescape(dst, src []byte) []byte {
	for len(src) > 0 {
		k := bytes.IndexAny(src, "&\r")
		if k < 0 {
			return append(dst, src...)
		}
		dst = append(dst, src[:k]...)
		if src[k] == '\r' {
			dst = append(dst, '\n')
			if k+1 < len(src) && src[k+1] == '\n' {
				k++
			}
			src = src[k+1:]
			continue
		}
		e := bytes.IndexByte(src[k:], ';')
		r := decodeRef(src[k : k+e])
		dst = utf8.AppendRune(dst, r)
		src = src[k+e+1:]
	}
	return dst
}

// decodeRef decodes a validated reference without its ';'.
func decodeRef(b []byte) rune {
	if b[1] == '#' {
		var v rune
		if len(b) > 2 && b[2] == 'x' {
			for _, c := range b[3:] {
				switch {
				case c <= '9':
					v = v*16 + rune(c-'0')
				case c >= 'a':
					v = v*16 + rune(c-'a') + 10
				default:
					v = v*16 + rune(c-'A') + 10
				}
			}
			return v
		}
		for _, c := range b[2:] {
			v = v*10 + rune(c-'0')
		}
		return v
	}
	switch string(b[1:]) {
	case "lt":
		return '<'
	case "gt":
		return '>'
	case "amp":
		return '&'
	case "apos":
		return '\''
	}
	return '"'
}

func (s *scanner) endTag() (tokKind, error) {
	b := s.buf[:s.end]
	i := s.pos + 2
	s.atStart = false
	if n := len(s.stackEnds); n > 0 {
		// Fast path: the expected name followed by '>'.
		top := s.top()
		if e := i + len(top); e < len(b) && b[e] == '>' && bytes.Equal(b[i:e], top) {
			s.name = b[i:e]
			s.pos = e + 1
			s.pop()
			return tokEnd, nil
		}
	}
	j, err := s.scanName(i, "element name after </")
	if err != nil {
		return 0, err
	}
	name := b[i:j]
	k := s.skipSpace(j)
	if k >= len(b) {
		return 0, errMore
	}
	if b[k] != '>' {
		return 0, s.errAt(k, KindSyntax, "invalid characters between </%s and >", name)
	}
	if len(s.stackEnds) == 0 {
		return 0, s.errAt(s.pos, KindSyntax, "unexpected end element </%s>", name)
	}
	if top := s.top(); !bytes.Equal(top, name) {
		return 0, s.errAt(s.pos, KindSyntax, "element <%s> closed by </%s>", top, name)
	}
	s.name = name
	s.pos = k + 1
	s.pop()
	return tokEnd, nil
}

// procInst skips a processing instruction; the XML declaration is checked.
func (s *scanner) procInst() (tokKind, error) {
	b := s.buf[:s.end]
	i := s.pos + 2
	j, err := s.scanName(i, "processing instruction target")
	if err != nil {
		return 0, err
	}
	target := b[i:j]
	if string(target) == "xml" {
		if !s.atStart {
			return 0, s.errAt(s.pos, KindRefused, "XML declaration not at the start of the document")
		}
		e := bytes.Index(b[j:], []byte("?>"))
		if e < 0 {
			if s.srcEOF {
				return 0, s.errAt(s.end, KindSyntax, "unexpected end of input in the XML declaration")
			}
			if len(b)-s.pos > 4096 {
				return 0, s.errAt(s.pos, KindLimit, "XML declaration longer than 4096 bytes")
			}
			return 0, errMore
		}
		if err := s.checkDecl(j, j+e); err != nil {
			return 0, err
		}
		s.atStart = false
		s.pos = j + e + 2
		return 0, nil
	}
	s.atStart = false
	// Skip to "?>", streaming.
	k := j
	for {
		e := bytes.Index(b[k:], []byte("?>"))
		if e >= 0 {
			s.pos = k + e + 2
			return 0, nil
		}
		if s.srcEOF {
			return 0, s.errAt(s.end, KindSyntax, "unexpected end of input in a processing instruction")
		}
		// Keep the last byte (it may be '?') and read on; the whole
		// instruction is never held.
		s.pos = s.end - 1
		more, err := s.fill()
		if err != nil {
			return 0, err
		}
		if !more {
			return 0, s.errAt(s.end, KindSyntax, "unexpected end of input in a processing instruction")
		}
		b = s.buf[:s.end]
		k = s.pos
	}
}

// checkDecl checks the XML declaration's pseudo-attributes in b[i:e]:
// version="1.0" [encoding="..."] [standalone="yes|no"].
func (s *scanner) checkDecl(i, e int) error {
	b := s.buf[:e]
	seen := 0
	for _, want := range []string{"version", "encoding", "standalone"} {
		k := s.skipSpaceTo(i, e)
		if k == e {
			break
		}
		if k == i {
			return s.errAt(k, KindRefused, "malformed XML declaration")
		}
		if !bytes.HasPrefix(b[k:], []byte(want)) {
			if want == "version" {
				return s.errAt(k, KindRefused, "XML declaration without version")
			}
			continue
		}
		k = s.skipSpaceTo(k+len(want), e)
		if k == e || b[k] != '=' {
			return s.errAt(k, KindRefused, "malformed XML declaration")
		}
		k = s.skipSpaceTo(k+1, e)
		if k == e || (b[k] != '"' && b[k] != '\'') {
			return s.errAt(k, KindRefused, "malformed XML declaration")
		}
		q := b[k]
		ve := bytes.IndexByte(b[k+1:], q)
		if ve < 0 {
			return s.errAt(k, KindRefused, "malformed XML declaration")
		}
		v := b[k+1 : k+1+ve]
		switch want {
		case "version":
			if string(v) != "1.0" {
				kind := KindSyntax
				if len(v) == 0 {
					kind = KindRefused // encoding/xml lets an empty version pass
				}
				return s.errAt(k, kind, "unsupported XML version %q; only 1.0 is supported", v)
			}
		case "standalone":
			if string(v) != "yes" && string(v) != "no" {
				return s.errAt(k, KindRefused, "standalone must be yes or no")
			}
		}
		seen++
		i = k + 2 + ve
	}
	if k := s.skipSpaceTo(i, e); k != e {
		return s.errAt(k, KindRefused, "malformed XML declaration")
	}
	if seen == 0 {
		return s.errAt(i, KindRefused, "XML declaration without version")
	}
	return nil
}

func (s *scanner) skipSpaceTo(i, e int) int {
	for i < e && isSpace(s.buf[i]) {
		i++
	}
	return i
}

// bang handles <!-- comments -->, <![CDATA[ sections ]]> and refuses
// declarations such as <!DOCTYPE.
func (s *scanner) bang() (tokKind, error) {
	b := s.buf[:s.end]
	i := s.pos + 2
	s.atStart = false
	if i+1 >= len(b) {
		return 0, s.more(s.pos)
	}
	if b[i] == '-' {
		if b[i+1] != '-' {
			return 0, s.errAt(s.pos, KindSyntax, "invalid sequence <!- not part of <!--")
		}
		return s.comment(i + 2)
	}
	if b[i] == '[' {
		const cd = "[CDATA["
		for k := 0; k < len(cd); k++ {
			if i+k >= len(b) {
				return 0, s.more(s.pos)
			}
			if b[i+k] != cd[k] {
				return 0, s.errAt(s.pos, KindSyntax, "invalid <![ sequence")
			}
		}
		if len(s.stackEnds) == 0 {
			return 0, s.errAt(s.pos, KindRefused, "CDATA section outside the root element")
		}
		s.pos = i + len(cd)
		return s.cdata()
	}
	what := "declaration"
	if bytes.HasPrefix(b[i:], []byte("DOCTYPE")) {
		what = "DOCTYPE declaration"
	}
	return 0, s.errAt(s.pos, KindRefused, "%s refused (no DTDs or entity definitions are accepted)", what)
}

// comment skips to "-->" from b[i], streaming; "--" inside is an error.
func (s *scanner) comment(i int) (tokKind, error) {
	start := s.pos
	for {
		b := s.buf[:s.end]
		e := bytes.Index(b[i:], []byte("--"))
		if e >= 0 && i+e+2 < len(b) {
			if b[i+e+2] != '>' {
				return 0, s.errAt(i+e, KindSyntax, `invalid sequence "--" not allowed in comments`)
			}
			s.pos = i + e + 3
			return 0, nil
		}
		if s.srcEOF {
			return 0, s.errAt(start, KindSyntax, "unexpected end of input in a comment")
		}
		keep := s.end - 2
		if e >= 0 {
			keep = i + e
		}
		s.pos = max(keep, s.pos)
		more, err := s.fill()
		if err != nil {
			return 0, err
		}
		if !more {
			return 0, s.errAt(s.end, KindSyntax, "unexpected end of input in a comment")
		}
		start = 0
		i = s.pos
	}
}

// cdata returns the CDATA content from s.pos as text chunks; the section's
// end "]]>" is consumed with the last chunk.
func (s *scanner) cdata() (tokKind, error) {
	for {
		b := s.buf[:s.end]
		i := s.pos
		clean := true
		for i < len(b) {
			c := b[i]
			if textClass[c] == clsNone || c == '<' || c == '&' {
				i++
				continue
			}
			switch c {
			case ']':
				if i+2 >= len(b) && !s.srcEOF {
					goto partial
				}
				if i+2 < len(b) && b[i+1] == ']' && b[i+2] == '>' {
					s.text = s.textOf(s.pos, i, clean)
					s.pos = i + 3
					return tokText, nil
				}
			case '\r':
				if i+1 >= len(b) && !s.srcEOF {
					goto partial
				}
				clean = false
			case 0xEF:
				if err := s.checkEF(i); err == errMore {
					goto partial
				} else if err != nil {
					return 0, err
				}
			default:
				return 0, s.errAt(i, KindSyntax, "illegal character code U+%04X", c)
			}
			i++
		}
		if s.srcEOF {
			return 0, s.errAt(s.end, KindSyntax, "unexpected end of input in a CDATA section")
		}
	partial:
		if i > s.pos {
			// Return what we have; the section continues.
			s.text = s.textOf(s.pos, i, clean)
			s.pos = i
			s.inCDATA()
			return tokText, nil
		}
		more, err := s.fill()
		if err != nil {
			return 0, err
		}
		if !more {
			return 0, s.errAt(s.end, KindSyntax, "unexpected end of input in a CDATA section")
		}
	}
}

// inCDATA marks that the next chunk continues a CDATA section. It is kept as
// a flag checked by chardata.
func (s *scanner) inCDATA() { s.cdataOpen = true }

// textOf returns b[i:j] as text, normalizing line ends when !clean (CDATA
// has no references).
func (s *scanner) textOf(i, j int, clean bool) []byte {
	if clean {
		return s.buf[i:j]
	}
	s.scratch = s.scratch[:0]
	src := s.buf[i:j]
	for len(src) > 0 {
		k := bytes.IndexByte(src, '\r')
		if k < 0 {
			s.scratch = append(s.scratch, src...)
			break
		}
		s.scratch = append(s.scratch, src[:k]...)
		s.scratch = append(s.scratch, '\n')
		if k+1 < len(src) && src[k+1] == '\n' {
			k++
		}
		src = src[k+1:]
	}
	return s.scratch
}

// chardata scans text from s.pos up to the next '<' (or a safe cut when the
// text runs past the buffer).
func (s *scanner) chardata() (tokKind, error) {
	b := s.buf[:s.end]
	i := s.pos
	// Fast path: indentation between tags, runs of spaces 8 at a time.
	for i < len(b) {
		c := b[i]
		if c == ' ' {
			if i+8 <= len(b) {
				x := le64(b[i:]) ^ (lsb * ' ')
				if x == 0 {
					i += 8
					continue
				}
				i += bits.TrailingZeros64(x) >> 3
				continue
			}
			i++
			continue
		}
		if c != '\n' && c != '\t' {
			break
		}
		i++
	}
	if i < len(b) && b[i] == '<' && (!s.wantText || len(s.stackEnds) == 0) {
		// Only indentation: go on with the markup that follows.
		s.pos = i
		s.tokPos = i
		return s.markup()
	}
	clean := true
	lt := bytes.IndexByte(b[i:], '<')
	if lt < 0 {
		lt = len(b)
	} else {
		lt += i
	}
	for {
		// Skip ordinary bytes, 8 at a time while no byte of the word can
		// need attention.
		for i < lt {
			if i+8 <= lt {
				if textSpecial(le64(b[i:])) == 0 {
					i += 8
					continue
				}
				e := i + 8
				for i < e && textClass[b[i]] == clsNone {
					i++
				}
				if i < e {
					break
				}
				continue
			}
			if textClass[b[i]] != clsNone {
				break
			}
			i++
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		switch textClass[c] {
		case clsLT:
			goto done
		case clsAmp:
			n, err := s.checkRef(i)
			if err == errMore {
				goto partial
			}
			if err != nil {
				return 0, err
			}
			clean = false
			i = n
		case clsCR:
			if i+1 >= len(b) && !s.srcEOF {
				goto partial
			}
			clean = false
			i++
		case clsBracket:
			if i+2 >= len(b) && !s.srcEOF {
				goto partial
			}
			if i+2 < len(b) && b[i+1] == ']' && b[i+2] == '>' {
				return 0, s.errAt(i, KindSyntax, "unescaped ]]> not in CDATA section")
			}
			i++
		case clsEF:
			if err := s.checkEF(i); err == errMore {
				goto partial
			} else if err != nil {
				return 0, err
			}
			i++
		case clsCtl:
			return 0, s.errAt(i, KindSyntax, "illegal character code U+%04X", c)
		}
	}
	if !s.srcEOF && i-s.pos < textChunkMin {
		// Short text at the end of the buffer: read on and rescan.
		return 0, errMore
	}
	goto done
partial:
	if i == s.pos {
		return 0, errMore
	}
done:
	if len(s.stackEnds) == 0 {
		for k := s.pos; k < i; k++ {
			if !isSpace(b[k]) {
				return 0, s.errAt(k, KindRefused, "text outside the root element")
			}
		}
		s.atStart = false
		s.pos = i
		return 0, nil
	}
	if !s.wantText {
		s.pos = i
		return 0, nil
	}
	if clean {
		s.text = b[s.pos:i]
	} else {
		s.scratch = s.unescape(s.scratch[:0], b[s.pos:i])
		s.text = s.scratch
	}
	s.pos = i
	return tokText, nil
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// le64 loads 8 bytes little-endian (one instruction on common CPUs).
func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// hasZero is non-zero when some byte of x is zero.
func hasZero(x uint64) uint64 { return (x - lsb) &^ x & msb }

// textSpecial is non-zero when some byte of x may be of a textClass other
// than clsNone: a control character (tab and line feed included, the byte
// loop sorts them out), '&', ']' or 0xEF. '<' is bounded by the caller.
func textSpecial(x uint64) uint64 {
	return ((x - lsb*0x20) &^ x & msb) | // some byte < 0x20
		hasZero(x^(lsb*'&')) | hasZero(x^(lsb*']')) | hasZero(x^(lsb*0xEF))
}

// skipElement consumes the rest of the element whose start tag was just
// returned, up to and including its end tag, checking it as next does but
// returning no token. wantText should be false.
func (s *scanner) skipElement() error {
	d := len(s.stackEnds)
	for {
		k, err := s.next()
		if err != nil {
			return err
		}
		if k == tokEnd && len(s.stackEnds) < d {
			return nil
		}
	}
}

// attr returns the value of the named attribute of the current start tag.
func (s *scanner) attr(name string) ([]byte, bool) {
	for i := range s.attrs {
		if string(s.attrs[i].name) == name {
			return s.attrs[i].value, true
		}
	}
	return nil, false
}
