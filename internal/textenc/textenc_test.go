package textenc

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf16"
	"unicode/utf8"
)

func utf16le(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = append(b, 0xFF, 0xFE)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func utf16be(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = append(b, 0xFE, 0xFF)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

func decodeAll(t *testing.T, in []byte, label string) (string, error) {
	t.Helper()
	r, err := Decode(bytes.NewReader(in), label)
	if err != nil {
		return "", err
	}
	out, err := io.ReadAll(r)
	return string(out), err
}

const sample = "Koffiezetapparaat € 12,50 – Größe: café 🍺 <naïve>"

func TestDecodeOK(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		label string
		want  string
	}{
		{"utf8 detect", []byte(sample), "", sample},
		{"utf8 bom detect", append([]byte{0xEF, 0xBB, 0xBF}, sample...), "", sample},
		{"utf8 bom declared", append([]byte{0xEF, 0xBB, 0xBF}, sample...), "UTF-8", sample},
		{"utf8 label", []byte(sample), "utf8", sample},
		{"utf16le bom detect", utf16le(sample, true), "", sample},
		{"utf16be bom detect", utf16be(sample, true), "", sample},
		{"utf16 declared bom le", utf16le(sample, true), "UTF-16", sample},
		{"utf16 declared bom be", utf16be(sample, true), "utf-16", sample},
		{"utf16le no bom", utf16le(sample, false), "utf-16le", sample},
		{"utf16be no bom", utf16be(sample, false), "UTF-16BE", sample},
		{"utf16le bom + label", utf16le(sample, true), "utf-16le", sample},
		{"windows-1252", []byte("caf\xe9 \x80 12 \x93q\x94 \x96"), "windows-1252", "café € 12 “q” –"},
		{"cp1252", []byte("\x80"), "CP1252", "€"},
		{"latin1", []byte("caf\xe9 \xa4 \xff"), "latin1", "café ¤ ÿ"},
		{"iso-8859-1", []byte("Gr\xf6\xdfe"), "ISO-8859-1", "Größe"},
		{"iso-8859-15 euro", []byte("\xa4 12,50 \xbd"), "iso-8859-15", "€ 12,50 œ"},
		{"latin9", []byte("\xa4"), "latin9", "€"},
		{"empty", nil, "", ""},
		{"empty 1252", nil, "windows-1252", ""},
		{"only bom", []byte{0xEF, 0xBB, 0xBF}, "", ""},
		{"short ascii", []byte("a"), "", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeAll(t, tt.in, tt.label)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			// The same through one-byte reads and tiny buffers.
			r, err := Decode(iotest.OneByteReader(bytes.NewReader(tt.in)), tt.label)
			if err != nil {
				t.Fatal(err)
			}
			var out []byte
			buf := make([]byte, 1)
			for {
				n, err := r.Read(buf)
				out = append(out, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("tiny reads: %v", err)
				}
			}
			if string(out) != tt.want {
				t.Fatalf("tiny reads: got %q, want %q", out, tt.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		label   string
		sentry  error
		offset  int64
		msgPart string
	}{
		{"bad utf8 byte", []byte("abc\xffdef"), "", ErrInvalidUTF8, 3, "ff"},
		{"latin1 in utf8", []byte("caf\xe9 au lait"), "utf-8", ErrInvalidUTF8, 3, "e9"},
		{"bad utf8 after bom", []byte("\xEF\xBB\xBFab\xc3("), "", ErrInvalidUTF8, 5, "c3"},
		{"truncated utf8 at end", []byte("ab\xe2\x82"), "", ErrInvalidUTF8, 2, "truncated"},
		{"overlong", []byte("a\xc0\xafb"), "", ErrInvalidUTF8, 1, "c0"},
		{"surrogate in utf8", []byte("a\xed\xa0\x80b"), "", ErrInvalidUTF8, 1, "ed"},
		{"1252 undefined", []byte("ab\x81"), "windows-1252", ErrUndefinedByte, 2, "0x81"},
		{"latin1 C1", []byte("ab\x80"), "iso-8859-1", ErrUndefinedByte, 2, "windows-1252"},
		{"latin9 C1", []byte("\x93x"), "latin9", ErrUndefinedByte, 0, "C1"},
		{"utf16 odd", append(utf16le("ab", true), 'c'), "", ErrInvalidUTF16, 6, "odd"},
		{"utf16 lone high", append(utf16le("ab", true), 0x00, 0xD8, 'a', 0), "", ErrInvalidUTF16, 6, "not followed"},
		{"utf16 lone high at end", append(utf16le("ab", true), 0x00, 0xD8), "", ErrInvalidUTF16, 6, "end of input"},
		{"utf16 lone low", append(utf16be("ab", true), 0xDC, 0x00), "", ErrInvalidUTF16, 6, "low surrogate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeAll(t, tt.in, tt.label)
			if !errors.Is(err, tt.sentry) {
				t.Fatalf("error %v, want %v", err, tt.sentry)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("not a *DecodeError: %T", err)
			}
			if de.Offset != tt.offset {
				t.Errorf("offset %d, want %d (%v)", de.Offset, tt.offset, err)
			}
			if !strings.Contains(err.Error(), tt.msgPart) {
				t.Errorf("error %q does not mention %q", err, tt.msgPart)
			}
		})
	}
}

func TestDecodeRefusesLabel(t *testing.T) {
	if _, err := Decode(strings.NewReader("x"), "EBCDIC-37"); !errors.Is(err, ErrUnknownEncoding) || !strings.Contains(err.Error(), "EBCDIC-37") {
		t.Fatalf("unknown label: %v", err)
	}
	if _, err := Decode(bytes.NewReader(utf16le("x", true)), "windows-1252"); !errors.Is(err, ErrBOMMismatch) {
		t.Fatalf("bom mismatch: %v", err)
	}
	if _, err := Decode(bytes.NewReader(utf16le("x", true)), "utf-16be"); !errors.Is(err, ErrBOMMismatch) {
		t.Fatalf("bom mismatch 16: %v", err)
	}
	if _, err := Decode(bytes.NewReader(utf16le("x", false)), "utf-16"); err == nil {
		t.Fatal("utf-16 without BOM accepted")
	}
}

func TestSniff(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
		n    int
	}{
		{"\xEF\xBB\xBF<", "utf-8", 3}, {"\xFF\xFE<\x00", "utf-16le", 2}, {"\xFE\xFF\x00<", "utf-16be", 2},
		{"<?xml", "", 0}, {"\xEF\xBB", "", 0}, {"", "", 0},
	} {
		got, n := Sniff([]byte(tt.in))
		if got != tt.want || n != tt.n {
			t.Errorf("Sniff(%q) = %q,%d want %q,%d", tt.in, got, n, tt.want, tt.n)
		}
	}
}

// TestSplitRunes feeds UTF-8 through reads that split every multi-byte rune at
// every possible position.
func TestSplitRunes(t *testing.T) {
	s := strings.Repeat(sample, 50)
	for chunk := 1; chunk <= 9; chunk++ {
		r, _ := Decode(&chunkReader{b: []byte(s), n: chunk}, "")
		got, err := io.ReadAll(r)
		if err != nil || string(got) != s {
			t.Fatalf("chunk %d: err %v, equal %v", chunk, err, string(got) == s)
		}
		r, _ = Decode(&chunkReader{b: utf16le(s, true), n: chunk}, "")
		got, err = io.ReadAll(r)
		if err != nil || string(got) != s {
			t.Fatalf("utf16 chunk %d: err %v, equal %v", chunk, err, string(got) == s)
		}
	}
}

type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := min(c.n, len(p), len(c.b))
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}

// FuzzDecodeUTF8 checks the validating reader agrees with utf8.Valid and
// passes valid input through unchanged, whatever the read sizes.
func FuzzDecodeUTF8(f *testing.F) {
	f.Add([]byte(sample), 3)
	f.Add([]byte("ab\xe2\x82"), 1)
	f.Add([]byte("\xEF\xBB\xBFx"), 2)
	f.Add([]byte("a\xed\xa0\x80b"), 7)
	f.Fuzz(func(t *testing.T, in []byte, chunk int) {
		if chunk <= 0 || chunk > 64 {
			chunk = 5
		}
		r, err := Decode(&chunkReader{b: in, n: chunk}, "utf-8")
		if err != nil {
			if bom, _ := Sniff(in); bom == "utf-16le" || bom == "utf-16be" {
				return // refused: UTF-16 BOM under a UTF-8 label
			}
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		body := bytes.TrimPrefix(in, []byte{0xEF, 0xBB, 0xBF})
		if utf8.Valid(body) {
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("valid input: err %v", err)
			}
			return
		}
		var de *DecodeError
		if !errors.As(err, &de) || !errors.Is(err, ErrInvalidUTF8) {
			t.Fatalf("invalid input accepted: err %v", err)
		}
		if !utf8.Valid(got) || !bytes.HasPrefix(body, got) {
			t.Fatalf("output before the error is not a valid prefix")
		}
	})
}

// FuzzDecode checks every label either errors or yields valid UTF-8.
func FuzzDecode(f *testing.F) {
	for _, l := range []string{"", "utf-16", "utf-16le", "utf-16be", "windows-1252", "iso-8859-1", "iso-8859-15"} {
		f.Add([]byte("caf\xe9\x80\x81"), l)
		f.Add(utf16le(sample, true), l)
	}
	f.Fuzz(func(t *testing.T, in []byte, label string) {
		r, err := Decode(bytes.NewReader(in), label)
		if err != nil {
			return
		}
		got, _ := io.ReadAll(r)
		if !utf8.Valid(got) {
			t.Fatalf("invalid UTF-8 out for %q", label)
		}
	})
}

func BenchmarkUTF8(b *testing.B) {
	data := bytes.Repeat([]byte("<Description>Koffiezetapparaat café – 12,50</Description>\n"), 1<<14)
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r, _ := Decode(bytes.NewReader(data), "")
		for {
			_, err := r.Read(buf)
			if err != nil {
				break
			}
		}
	}
}

func BenchmarkWindows1252(b *testing.B) {
	data := bytes.Repeat([]byte("<Description>Koffiezetapparaat caf\xe9 \x96 12,50</Description>\n"), 1<<14)
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r, _ := Decode(bytes.NewReader(data), "windows-1252")
		for {
			_, err := r.Read(buf)
			if err != nil {
				break
			}
		}
	}
}
