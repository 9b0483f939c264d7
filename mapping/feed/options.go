package feed

import (
	"fmt"
	"slices"
	"strings"
)

// CanonicalNames checks names configured for a filter (statuses, types): each
// is trimmed and lower-cased and must be one of allowed. It returns them in
// that canonical form, or an error naming the key, the first unknown name
// and the valid ones (what says what kind of name it is).
func CanonicalNames(key, what string, names, allowed []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for i, s := range names {
		c := strings.ToLower(strings.TrimSpace(s))
		if !slices.Contains(allowed, c) {
			return nil, fmt.Errorf("%s[%d]: unknown %s %q (want one of %s)", key, i, what, s, strings.Join(allowed, ", "))
		}
		out = append(out, c)
	}
	return out, nil
}

// CheckCurrency refuses a configured currency that is not a three-letter
// upper-case ISO 4217 code; "" (none configured) is fine.
func CheckCurrency(c string) error {
	if c != "" && (len(c) != 3 || strings.ToUpper(c) != c || strings.TrimSpace(c) != c) {
		return fmt.Errorf("currency: %q is not an ISO 4217 code like EUR", c)
	}
	return nil
}

// ContainsFold reports whether list holds s, ignoring case and the list
// entries' surrounding spaces (configured names are compared this way).
func ContainsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(strings.TrimSpace(v), s) {
			return true
		}
	}
	return false
}
