// Command esesynth writes a synthetic ESE file set (database, logs,
// checkpoint) with package synth, for tests, benchmarks and demos.
//
//	esesynth -dir out -pages 262144 -page-size 4096 -state dirty
//	esesynth -preset small -dir testdata/synth-small
//
// Flags given explicitly override the preset.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/ese/synth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "esesynth:", err)
		os.Exit(1)
	}
}

// run parses args, generates the set and prints where it went.
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("esesynth", flag.ContinueOnError)
	var (
		preset     = fs.String("preset", "", `start from a named option set: "small" (the bundled testdata set)`)
		dir        = fs.String("dir", "", "output directory (required)")
		base       = fs.String("base", "", `log base name, 3 characters (default "edb")`)
		db         = fs.String("db", "", `database file name (default "synth.edb")`)
		pages      = fs.Uint("pages", 0, "logical database size in pages (default 256)")
		used       = fs.Uint("used", 0, "data pages with content, the rest zero (default: all)")
		pageSize   = fs.Int("page-size", 0, "page size in bytes, 2048..32768 (default 4096)")
		state      = fs.String("state", "", `database state: "clean" (default) or "dirty"`)
		firstGen   = fs.Uint("first-gen", 0, "first (oldest) log generation (default 1)")
		currentGen = fs.Uint("current-gen", 0, "generation of the current log <base>.log (default first-gen+3)")
		ckptGen    = fs.Uint("checkpoint-gen", 0, "generation in the checkpoint (default: current, or current-1 when dirty)")
		logSize    = fs.Int("log-size", 0, "log file size in bytes, a multiple of 4096 (default 65536)")
		seed       = fs.Int64("seed", 0, "seed of every pseudo-random choice")
		eight      = fs.Bool("eight-digit", false, "name archived logs with 8 hex digits")
		tm         = fs.String("time", "", "creation time of the first log, RFC 3339 (default 2024-03-01T12:00:00Z)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var o synth.Options
	switch *preset {
	case "":
	case "small":
		o = synth.SmallOptions()
	default:
		return fmt.Errorf("unknown preset %q", *preset)
	}
	var err error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "dir":
			o.Dir = *dir
		case "base":
			o.BaseName = *base
		case "db":
			o.DBName = *db
		case "pages":
			o.Pages, err = toU32(err, "pages", *pages)
		case "used":
			o.UsedPages, err = toU32(err, "used", *used)
		case "page-size":
			o.PageSize = *pageSize
		case "state":
			switch *state {
			case "clean":
				o.State = format.DBStateCleanShutdown
			case "dirty":
				o.State = format.DBStateDirtyShutdown
			default:
				err = errors.Join(err, fmt.Errorf("-state %q: want clean or dirty", *state))
			}
		case "first-gen":
			o.FirstGen, err = toU32(err, "first-gen", *firstGen)
		case "current-gen":
			o.CurrentGen, err = toU32(err, "current-gen", *currentGen)
		case "checkpoint-gen":
			o.CheckpointGen, err = toU32(err, "checkpoint-gen", *ckptGen)
		case "log-size":
			o.LogSize = *logSize
		case "seed":
			o.Seed = *seed
		case "eight-digit":
			o.EightDigitNames = *eight
		case "time":
			t, perr := time.Parse(time.RFC3339Nano, *tm)
			if perr != nil {
				err = errors.Join(err, fmt.Errorf("-time: %w", perr))
			}
			o.Time = t
		}
	})
	if err != nil {
		return err
	}
	if o.Dir == "" {
		return errors.New("-dir is required")
	}
	start := time.Now()
	s, err := synth.Generate(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s: %d pages of %d bytes (%d used), %s, logs %d..%d, checkpoint %d, in %v\n",
		s.DBPath, s.Pages, s.PageSize, s.UsedPages, s.State, s.FirstGen, s.CurrentGen, s.CheckpointGen,
		time.Since(start).Round(time.Millisecond))
	return nil
}

// toU32 narrows a flag value, keeping the first error.
func toU32(err error, name string, v uint) (uint32, error) {
	if v > 1<<32-1 {
		return 0, errors.Join(err, fmt.Errorf("-%s %d is too large", name, v))
	}
	return uint32(v), err
}
