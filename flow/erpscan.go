package flow

import (
	"encoding/json"
	"strings"
)

// scanERPRec reads the fields of erpRec from one JSON object, skipping every
// other member without decoding it (a catalogue record is mostly
// descriptions and attributes the check does not need). It reads our own
// published snapshots, which are valid JSON: on valid JSON it gives what
// json.Unmarshal gives (a differential test and fuzz target hold it to
// that), and for anything but the plain shapes our feed writers produce
// (escapes or non-ASCII in a wanted string, a key that matches a field
// only in another case) it leaves the record to encoding/json. It does not
// validate the members it skips.
func scanERPRec(line []byte, rec *erpRec) error {
	if fastERPRec(line, rec) {
		return nil
	}
	*rec = erpRec{}
	return json.Unmarshal(line, rec)
}

// fastERPRec is the fast path of scanERPRec; false means "use
// encoding/json" (rec may then be partly filled).
func fastERPRec(b []byte, rec *erpRec) bool {
	*rec = erpRec{}
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipWS(b, i+1) == len(b)
	}
	for {
		// a key without escapes
		if i >= len(b) || b[i] != '"' {
			return false
		}
		k := i + 1
		j := k
		for j < len(b) && b[j] != '"' {
			if b[j] == '\\' || b[j] < 0x20 {
				return false
			}
			j++
		}
		if j >= len(b) {
			return false
		}
		key := b[k:j]
		i = skipWS(b, j+1)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipWS(b, i+1)
		var ok bool
		switch string(key) {
		case "administration":
			rec.Administration, i, ok = plainString(b, i)
		case "item_code":
			rec.ItemCode, i, ok = plainString(b, i)
		case "debtor_code":
			rec.DebtorCode, i, ok = plainString(b, i)
		case "status":
			rec.Status, i, ok = plainString(b, i)
		case "blocked":
			switch {
			case hasPrefix(b[i:], "true"):
				rec.Blocked, i, ok = true, i+4, true
			case hasPrefix(b[i:], "false"):
				rec.Blocked, i, ok = false, i+5, true
			}
		default:
			for _, f := range erpFields {
				if strings.EqualFold(string(key), f) {
					return false // encoding/json matches keys in any case
				}
			}
			i, ok = skipValue(b, i)
		}
		if !ok {
			return false
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return skipWS(b, i+1) == len(b)
		default:
			return false
		}
	}
}

var erpFields = []string{"administration", "item_code", "debtor_code", "status", "blocked"}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func hasPrefix(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }

// plainString reads a JSON string of printable ASCII without escapes;
// anything else goes to encoding/json (which also replaces invalid UTF-8).
func plainString(b []byte, i int) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return string(b[i+1 : j]), j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return "", i, false
		}
	}
	return "", i, false
}

// skipValue skips one JSON value of the plain shapes (strings without
// escapes, objects, arrays, numbers, true, false, null).
func skipValue(b []byte, i int) (int, bool) {
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			j := i + 1
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					j++ // skip the escaped byte (a quote or a backslash among them)
				} else if b[j] < 0x20 {
					return i, false
				}
				j++
			}
			if j >= len(b) {
				return i, false
			}
			i = j + 1
		case '{', '[':
			depth++
			i++
		case '}', ']':
			if depth == 0 {
				return i, true // the end of the enclosing object
			}
			depth--
			i++
		case ',':
			if depth == 0 {
				return i, true
			}
			i++
		default:
			i++
		}
		if depth == 0 && i < len(b) && (b[i] == ',' || b[i] == '}') {
			return i, true
		}
	}
	return i, false
}
