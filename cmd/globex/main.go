// Command globex connects Exact Globe Plus to a B2B webshop through files.
// See README.md; the commands are fixed by CONTRACT §1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"syscall"

	"globex/internal/app"
	"globex/internal/config"
	"globex/internal/logging"
)

var version = "" // set with -ldflags "-X main.version=v1.2.3"

const usage = `globex connects Exact Globe Plus to a B2B webshop through files.

Usage:
  globex run   -c FILE            watch every exchange until stopped (Ctrl+C, SIGTERM)
  globex once  -c FILE            process what is pending, then exit (0 ok, 1 quarantined, 2 usage, 3 runtime)
  globex check -c FILE            check configuration and environment (0 ok, 2 not ok)
  globex trust -c FILE EXCHANGE [--yes]   show an SFTP server's host key; add it to known_hosts with --yes
  globex demo  [DIR]              build a demo workspace from the bundled samples and run it once
  globex version                  print the version
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return app.ExitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "globex", versionString())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "demo":
		dir := "globex-demo"
		if len(rest) > 0 {
			dir = rest[0]
		}
		if err := app.Demo(context.Background(), dir, stdout); err != nil {
			fmt.Fprintln(stderr, "globex demo:", err)
			return app.ExitRuntime
		}
		return 0
	case "run", "once", "check", "trust":
	default:
		fmt.Fprintf(stderr, "globex: unknown command %q\n\n%s", cmd, usage)
		return app.ExitUsage
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("c", "", "configuration file (YAML)")
	yes := fs.Bool("yes", false, "trust: add the shown host key to known_hosts")
	if err := fs.Parse(rest); err != nil {
		return app.ExitUsage
	}
	if *cfgPath == "" {
		fmt.Fprintf(stderr, "globex %s: say which configuration to use with -c FILE\n", cmd)
		return app.ExitUsage
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		printProblems(stderr, err)
		return app.ExitUsage
	}
	switch cmd {
	case "check":
		ok := true
		for _, f := range app.Check(cfg) {
			mark := "ok  "
			if !f.OK {
				mark, ok = "FAIL", false
			}
			fmt.Fprintf(stdout, "%s %s\n", mark, f.Text)
		}
		if !ok {
			return app.ExitUsage
		}
		fmt.Fprintf(stdout, "ok   configuration %s is usable (%d exchange(s))\n", cfg.Path, len(cfg.Exchanges))
		return 0
	case "trust":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "globex trust: name the exchange whose SFTP server to trust: globex trust -c FILE EXCHANGE [--yes]")
			return app.ExitUsage
		}
		code, err := app.Trust(context.Background(), cfg, fs.Arg(0), *yes, stdout)
		if err != nil {
			fmt.Fprintln(stderr, "globex trust:", err)
		}
		return code
	}

	log, closer, err := logging.New(os.Stderr, cfg.LogFile, cfg.LogLevel)
	if err != nil {
		fmt.Fprintln(stderr, "globex:", err)
		return app.ExitUsage
	}
	defer closer.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, _, stopSvc := serviceContext(ctx)
	defer stopSvc()
	a, err := app.Open(cfg, log, cmd == "run")
	if err != nil {
		fmt.Fprintln(stderr, "globex:", err)
		return app.ExitRuntime
	}
	defer a.Close()
	// GLOBEX_CPUPROFILE=FILE writes a CPU profile of this run (for
	// docs/BENCHMARKS.md and for support cases).
	if pf := os.Getenv("GLOBEX_CPUPROFILE"); pf != "" {
		if f, err := os.Create(pf); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			}
		}
	}
	// GLOBEX_TRACE=FILE writes an execution trace (go tool trace): where
	// the wall time of a run goes, waits on the disk included.
	if tf := os.Getenv("GLOBEX_TRACE"); tf != "" {
		if f, err := os.Create(tf); err == nil {
			if trace.Start(f) == nil {
				defer func() { trace.Stop(); f.Close() }()
			}
		}
	}
	if cmd == "run" {
		log.Info().Str("version", versionString()).Str("config", cfg.Path).Msg("globex started")
		if err := a.Run(ctx); err != nil {
			fmt.Fprintln(stderr, "globex:", err)
			return app.ExitRuntime
		}
		return 0
	}
	return a.Once(ctx)
}

func printProblems(w io.Writer, err error) {
	var p *config.Problems
	if errors.As(err, &p) {
		fmt.Fprintln(w, "globex: the configuration has problems:")
		for _, s := range p.List {
			fmt.Fprintln(w, "  -", s)
		}
		return
	}
	fmt.Fprintln(w, "globex:", err)
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			return "dev-" + rev + dirty
		}
	}
	return "dev"
}
