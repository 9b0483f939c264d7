package catalog

import (
	"maps"
	"testing"
)

// A rule changed in place after Validate (same slice, same length) is
// matched as it is now, not as Validate saw it.
func TestRulesChangedInPlaceAfterValidate(t *testing.T) {
	it := cases(t)["FULL-1"]
	opt := &Options{Administration: "500", Attributes: []AttributeRule{{Kind: "text", Number: 2, Name: "Norm"}}}
	if err := opt.Validate(); err != nil {
		t.Fatal(err)
	}
	opt.Attributes[0].Name = "Standard"
	rec, keep, reason := Map(it, opt)
	if !keep {
		t.Fatal(reason)
	}
	if want := map[string]string{"Standard": "DIN 933"}; !maps.Equal(rec.Attributes, want) {
		t.Errorf("attributes %v, want %v", rec.Attributes, want)
	}
}

// A blank label is no label: Validate refuses a rule with neither a number
// nor a label, and unvalidated options with such a rule match nothing
// rather than every free field.
func TestBlankLabelRules(t *testing.T) {
	it := cases(t)["FULL-1"]
	opt := &Options{Administration: "500", Attributes: []AttributeRule{{Label: "  "}}}
	rec, _, _ := Map(it, opt)
	if len(rec.Attributes) != 0 {
		t.Errorf("a blank label without a number matched %v", rec.Attributes)
	}
}
