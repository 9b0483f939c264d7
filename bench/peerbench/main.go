// Command peerbench runs a command and prints its wall time and peak
// resident memory on one machine-readable line, for comparing globex with
// peer tools (xsltproc, Python lxml) in bench/items/run.sh:
//
//	peerbench [-label NAME] [-o FILE] -- CMD [ARGS...]
//
// prints
//
//	peerbench label=NAME exit=0 wall_s=1.234 maxrss_mb=17.9 user_s=1.100 sys_s=0.120 cmd="CMD ARGS..."
//
// Peak RSS is the largest resident set of the command or of any descendant
// it waited for (Linux reports the maximum over the process tree through
// wait4 and RUSAGE_CHILDREN). The command's stdout and stderr pass through;
// the result line goes to stderr, or is appended to FILE with -o. The exit
// status is the command's.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("peerbench", flag.ContinueOnError)
	label := fs.String("label", "", "name of the contender in the result line (default: the command's name)")
	out := fs.String("o", "", "append the result line to this file instead of writing it to stderr")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: peerbench [-label NAME] [-o FILE] -- CMD [ARGS...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cmdArgs := fs.Args()
	if len(cmdArgs) == 0 {
		fs.Usage()
		return 2
	}
	if *label == "" {
		*label = cmdArgs[0]
	}
	cmd := exec.Command(cmdArgs[0], cmdArgs[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	code := 0
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
		if code < 0 {
			code = 128 // killed by a signal
		}
	default:
		fmt.Fprintf(os.Stderr, "peerbench: %v\n", err)
		return 127
	}
	u := usage(cmd.ProcessState)
	line := fmt.Sprintf("peerbench label=%s exit=%d wall_s=%.3f maxrss_mb=%.1f user_s=%.3f sys_s=%.3f cmd=%s\n",
		quoteIfNeeded(*label), code, wall.Seconds(), float64(u.maxRSS)/(1<<20), u.user.Seconds(), u.sys.Seconds(),
		strconv.Quote(strings.Join(cmdArgs, " ")))
	if *out == "" {
		os.Stderr.WriteString(line)
	} else {
		f, err := os.OpenFile(*out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			_, err = f.WriteString(line)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "peerbench: %v\n", err)
			return 127
		}
	}
	return code
}

// resources is what the operating system reports about a finished command.
type resources struct {
	maxRSS    int64 // bytes
	user, sys time.Duration
}

func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\"=") {
		return strconv.Quote(s)
	}
	return s
}
