package catalog

import (
	"maps"
	"testing"
)

// Rules prepared by Validate are used only while Attributes holds what
// Validate saw: a rule changed in place afterwards (same slice, same
// length) is prepared anew, not matched as it was.
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

// A rule with a number and a blank label matches as it did before rules
// were prepared: a blank label is no label (Validate refuses a rule with
// neither), and unvalidated options with a blank label and no number match
// nothing rather than every free field.
func TestBlankLabelRules(t *testing.T) {
	it := cases(t)["FULL-1"]
	opt := &Options{Administration: "500", Attributes: []AttributeRule{{Label: "  "}}}
	rec, _, _ := Map(it, opt)
	if len(rec.Attributes) != 0 {
		t.Errorf("a blank label without a number matched %v", rec.Attributes)
	}
}
