package guard

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// Usage is the guard's command line, as the worker writes it.
const Usage = "guard --dir DIR --lease FILE [--poll D] [--output FILE [--output-limit N]] [--uid N --gid N] -- COMMAND [ARG...]"

// Main parses a guard command line (as the worker writes it: an optional
// leading "guard", the flags, then the workload's command) and runs the
// guard. It returns the process's exit code: the workload's, or 2 when the
// command line is wrong. `--protocol` alone prints the guard's Protocol
// to stdout (the worker checks it before using a guard). Both the small raftcron-guard binary and
// `raftcron guard` run it, so the two take the same arguments.
func Main(args []string, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "guard" {
		args = args[1:]
	}
	if len(args) == 1 && args[0] == protocolFlag {
		return printProtocol(os.Stdout)
	}
	cfg, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "raftcron guard: %v\nusage: %s\n", err, Usage)
		return 2
	}
	return Run(cfg)
}

func parseArgs(args []string, stderr io.Writer) (Config, error) {
	cfg := Config{Stderr: stderr}
	fs := flag.NewFlagSet("guard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n\n"+
			"The lease guard is the parent of every attempt's workload (started by the worker, not by people).\n"+
			"It starts COMMAND, forwards signals to it, reaps zombies, records its start, exit code and end in\n"+
			"DIR/record.json, and kills it when the worker stops renewing the lease in FILE.\n\n", Usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.Dir, "dir", Dir, "the attempt's directory: the record is written here")
	fs.StringVar(&cfg.LeasePath, "lease", LeaseDir+"/"+LeaseFile, "the lease file the worker renews")
	fs.DurationVar(&cfg.Poll, "poll", DefaultPoll, "how often the lease is read")
	fs.StringVar(&cfg.Output, "output", "", "append the command's stdout and stderr to this file, and the time each line was written to FILE.times (default: the guard's own stdout and stderr)")
	fs.Int64Var(&cfg.OutputLimit, "output-limit", 0, "with --output, keep at most this many bytes of output (0: no limit)")
	fs.IntVar(&cfg.UID, "uid", 0, "run the command as this user id (0: the guard's own)")
	fs.IntVar(&cfg.GID, "gid", 0, "with --uid, the command's group id")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.Argv = fs.Args()
	if len(cfg.Argv) == 0 {
		return cfg, errors.New("no command given after the flags")
	}
	return cfg, nil
}
