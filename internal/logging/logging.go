// Package logging sets up globex's logs: readable console lines for people on
// stderr, and JSON lines in a file for machines, one event per decision.
package logging

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

// New returns a logger writing to console (human format, coloured when it is
// a terminal) and, when file is not empty, JSON lines appended to file.
func New(console *os.File, file, level string) (zerolog.Logger, io.Closer, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	cw := zerolog.ConsoleWriter{Out: console, TimeFormat: "15:04:05", NoColor: !isatty.IsTerminal(console.Fd())}
	writers := []io.Writer{cw}
	var closer io.Closer = io.NopCloser(nil)
	if file != "" {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return zerolog.Nop(), nil, fmt.Errorf("cannot create the log folder for %s: %w", file, err)
		}
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return zerolog.Nop(), nil, fmt.Errorf("cannot open the log file %s: %w", file, err)
		}
		writers = append(writers, f)
		closer = f
	}
	log := zerolog.New(zerolog.MultiLevelWriter(writers...)).Level(lvl).With().Timestamp().Logger()
	return log, closer, nil
}
