package decimal

import (
	"errors"
	"testing"
)

func TestParseAndString(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{"12", "12"}, {"4.95", "4.95"}, {"-0.5", "-0.5"}, {".5", "0.5"}, {"+3.10", "3.10"},
		{"0", "0"}, {"000.001", "0.001"}, {"9223372036854775807", "9223372036854775807"},
		{"0.000000000000000001", "0.000000000000000001"},
	} {
		d, err := Parse(tc.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		if got := d.String(); got != tc.out {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.out)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, in := range []string{"", "1,5", "1e3", "NaN", "Inf", " 1", "1 ", "1.2.3", "12.", "-", ".", "1_000", "0x10",
		"92233720368547758070", "0.0000000000000000001"} {
		if d, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %v, want error", in, d)
		} else if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrRange) {
			t.Errorf("Parse(%q) error %v is neither ErrSyntax nor ErrRange", in, err)
		}
	}
}

func TestParseComma(t *testing.T) {
	d, err := ParseComma("12,50")
	if err != nil || d.String() != "12.50" {
		t.Fatalf("ParseComma = %v, %v", d, err)
	}
	if _, err := ParseComma("12.50"); err == nil {
		t.Fatal("ParseComma accepted a point")
	}
}

func TestArithmetic(t *testing.T) {
	a, b := MustParse("4.95"), MustParse("0.05")
	if s, _ := a.Add(b); s.String() != "5.00" {
		t.Errorf("add = %s", s)
	}
	if s, _ := a.Sub(MustParse("10")); s.String() != "-5.05" {
		t.Errorf("sub = %s", s)
	}
	if p, _ := a.Mul(MustParse("12")); p.String() != "59.40" {
		t.Errorf("mul = %s", p)
	}
	if p, _ := MustParse("5").Shift(2); p.String() != "0.05" {
		t.Errorf("shift = %s", p)
	}
	if r := MustParse("2.345").Round(2); r.String() != "2.35" {
		t.Errorf("round = %s", r)
	}
	if r := MustParse("-2.345").Round(2); r.String() != "-2.35" {
		t.Errorf("round neg = %s", r)
	}
	if n := MustParse("4.500").Normalize(); n.String() != "4.5" {
		t.Errorf("normalize = %s", n)
	}
	if !MustParse("4.5").Equal(MustParse("4.50")) || MustParse("4.5").Cmp(MustParse("4.49")) != 1 {
		t.Error("cmp")
	}
	if _, err := MustParse("9223372036854775807").Add(MustParse("1")); !errors.Is(err, ErrRange) {
		t.Errorf("overflow add: %v", err)
	}
	if _, err := MustParse("9223372036854775807").Mul(MustParse("2")); !errors.Is(err, ErrRange) {
		t.Errorf("overflow mul: %v", err)
	}
}

func TestJSON(t *testing.T) {
	var d Dec
	for _, in := range []string{`"4.95"`, `4.95`} {
		if err := d.UnmarshalJSON([]byte(in)); err != nil || d.String() != "4.95" {
			t.Errorf("UnmarshalJSON(%s) = %v, %v", in, d, err)
		}
	}
	if err := d.UnmarshalJSON([]byte(`1e3`)); err == nil {
		t.Error("1e3 accepted")
	}
	b, _ := MustParse("-0.05").MarshalJSON()
	if string(b) != `"-0.05"` {
		t.Errorf("MarshalJSON = %s", b)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1", "4.95", "-0.5", "1,5", "1e3", ".5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(d.String())
		if err != nil || !again.Equal(d) || again.String() != d.String() {
			t.Fatalf("round trip %q -> %q -> %v %v", s, d.String(), again, err)
		}
	})
}
