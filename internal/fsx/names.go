package fsx

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"
)

var reserved = map[string]bool{"CON": true, "PRN": true, "AUX": true, "NUL": true,
	"COM1": true, "COM2": true, "COM3": true, "COM4": true, "COM5": true, "COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true, "LPT5": true, "LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true}

// SafeName turns a name that came from outside (a webshop, an SFTP listing)
// into one file name that is valid on Windows and Linux and cannot leave its
// folder: path separators, "..", characters Windows forbids, control
// characters, trailing dots and spaces, and reserved device names are
// replaced. When anything had to change, a short hash of the original is
// appended so that two different names never map to the same file.
func SafeName(name string, maxLen int) string {
	if maxLen <= 0 {
		maxLen = 150
	}
	var b strings.Builder
	changed := false
	for _, r := range name {
		switch {
		case r == utf8.RuneError, r < 0x20, r == 0x7f, strings.ContainsRune(`<>:"/\|?*`, r), unicode.Is(unicode.Cf, r):
			b.WriteByte('_')
			changed = true
		default:
			b.WriteRune(r)
		}
	}
	s := b.String()
	if !utf8.ValidString(name) {
		changed = true
	}
	trimmed := strings.TrimRight(s, ". ")
	if trimmed != s {
		changed = true
		s = trimmed
	}
	if s == "" || s == "." || s == ".." {
		s = "_"
		changed = true
	}
	stem := s
	if i := strings.IndexByte(stem, '.'); i >= 0 {
		stem = stem[:i]
	}
	if reserved[strings.ToUpper(stem)] {
		s = "_" + s
		changed = true
	}
	if len(s) > maxLen {
		changed = true
	}
	if !changed {
		return s
	}
	sum := sha256.Sum256([]byte(name))
	suffix := "~" + hex.EncodeToString(sum[:4])
	ext := ""
	if i := strings.LastIndexByte(s, '.'); i > 0 && len(s)-i <= 8 {
		ext = s[i:]
		s = s[:i]
	}
	keep := maxLen - len(suffix) - len(ext)
	if keep < 1 {
		keep = 1
	}
	if len(s) > keep {
		s = s[:keep]
		for !utf8.ValidString(s) && len(s) > 0 {
			s = s[:len(s)-1]
		}
	}
	return s + suffix + ext
}

// ValidBaseName reports whether name is a plain file name that stays in its
// folder: not empty, not "." or "..", no separators, no NUL.
func ValidBaseName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\\\x00")
}
