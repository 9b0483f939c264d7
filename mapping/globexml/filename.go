package globexml

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"globex/mapping/order"
)

// maxNamePart bounds the administration and the order number in a file name.
const maxNamePart = 60

// FileName returns the import file name for o in the given administration:
// "<administration>_<order number>.xml", e.g. "500_WEB-100234.xml", or
// "<order number>.xml" without an administration. The same order always gets
// the same name. The name is ASCII and safe on Windows: characters other
// than letters, digits, '-', '_' and '.' are replaced by '_', as are a
// leading dot and an over-long tail, and then "~" and a short hash of the
// original number are appended, so two different order numbers never share a
// name ('~' only ever appears in names that carry such a hash). Names that
// Windows reserves for devices (CON, NUL, COM1, …) are treated the same way.
func FileName(o *order.Order, administration string) string {
	number, changed := safePart(o.Number)
	name := number
	if administration != "" {
		admin, _ := safePart(administration)
		name = admin + "_" + number
	}
	if changed || isReserved(name) {
		sum := sha256.Sum256([]byte(o.Number))
		name += "~" + hex.EncodeToString(sum[:5])
	}
	return name + ".xml"
}

// safePart replaces every character outside [A-Za-z0-9._-] by '_' and bounds
// the length; it reports whether anything changed.
func safePart(s string) (string, bool) {
	changed := false
	var b strings.Builder
	b.Grow(len(s))
	for i, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if c == '.' && i == 0 {
			ok = false // no hidden files, no "." or ".."
		}
		if !ok {
			c = '_'
			changed = true
		}
		if b.Len() < maxNamePart {
			b.WriteRune(c)
		} else {
			changed = true
		}
	}
	if s == "" {
		return "_", true
	}
	return b.String(), changed
}

// isReserved reports whether Windows treats the name (before its first dot)
// as a device, whatever the extension.
func isReserved(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	switch strings.ToUpper(strings.TrimRight(base, " ")) {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) == 4 {
		p := strings.ToUpper(base[:3])
		if (p == "COM" || p == "LPT") && base[3] >= '0' && base[3] <= '9' {
			return true
		}
	}
	return false
}
