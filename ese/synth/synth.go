package synth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/esesnap/esesnap/ese/format"
)

// Options describe the set Generate writes. Zero fields take the defaults
// given in their comments; the same Options (and seed) always give the same
// bytes, wherever Dir is.
type Options struct {
	Dir      string // output directory, created if missing; required
	BaseName string // log base name, exactly 3 characters; "edb"
	DBName   string // database file name inside Dir; "synth.edb"
	PageSize int    // database page size, 2048..32768, a power of two; 4096

	// Pages is the database's logical size (pgnoLast): the file holds
	// Pages+2 pages with the two header copies. 256.
	Pages uint32
	// UsedPages is how many data pages have content; 0 means all of them.
	// The others are zero (uninitialised), spread as the tail of every
	// 16-page extent, and written as sparse holes.
	UsedPages uint32

	// State is format.DBStateCleanShutdown (the default) or
	// format.DBStateDirtyShutdown. A clean database needs no logs and its
	// lgposConsistent lies in the current log; a dirty one requires the
	// generations CheckpointGen..CurrentGen.
	State format.DBState

	// FirstGen..CurrentGen-1 are written as archived logs and CurrentGen as
	// <base>.log. FirstGen defaults to 1, CurrentGen to FirstGen+3.
	FirstGen, CurrentGen uint32
	// CheckpointGen is the generation in the checkpoint file, between
	// FirstGen and CurrentGen; it defaults to CurrentGen for a clean
	// database and to CurrentGen-1 (at least FirstGen) for a dirty one.
	CheckpointGen uint32
	// LogSize is the size of every log file, a multiple of 4096 with room
	// for the header and at least one segment; 64 KiB.
	LogSize int

	Seed            int64     // seeds every pseudo-random choice
	EightDigitNames bool      // name archived logs with 8 hex digits instead of 5
	Time            time.Time // creation time of generation FirstGen; DefaultTime
}

// DefaultTime is the base timestamp of sets whose Options leave Time zero,
// fixed so that generated sets do not depend on the clock.
var DefaultTime = time.Date(2024, time.March, 1, 12, 0, 0, 0, time.UTC)

// SmallOptions returns the options of the small dirty set bundled in
// testdata/synth-small (4 KiB pages, 128 pages of which 96 used, logs 1-3
// archived plus the current generation 4, checkpoint at 2, 64 KiB logs); Dir
// is left empty for the caller.
func SmallOptions() Options {
	return Options{
		BaseName:      "edb",
		DBName:        "synth.edb",
		PageSize:      4096,
		Pages:         128,
		UsedPages:     96,
		State:         format.DBStateDirtyShutdown,
		FirstGen:      1,
		CurrentGen:    4,
		CheckpointGen: 2,
		LogSize:       64 << 10,
		Seed:          1,
	}
}

// Set is a generated ESE file set and what a test needs to know about it.
// Roll updates it as the set moves on.
type Set struct {
	Dir            string
	BaseName       string
	DBPath         string
	CheckpointPath string
	// LogPaths lists the archived logs in ascending generation order, then
	// the current log <base>.log.
	LogPaths []string
	SignDb   format.Signature
	SignLog  format.Signature
	PageSize int
	Pages    uint32 // logical database size (pgnoLast)

	UsedPages     uint32 // data pages with content; the rest are zero
	State         format.DBState
	FirstGen      uint32 // oldest log on disk
	CurrentGen    uint32 // generation of <base>.log
	CheckpointGen uint32 // generation the checkpoint names

	// Options are the effective options the set was generated with
	// (defaults filled in); Roll derives the new generations from them.
	Options Options
}

// CurrentLogPath returns the path of the current log, <base>.log.
func (s *Set) CurrentLogPath() string { return filepath.Join(s.Dir, s.BaseName+".log") }

// archivedLogPath returns the path of archived generation gen.
func (s *Set) archivedLogPath(gen uint32) string {
	return filepath.Join(s.Dir, format.LogFileName(s.BaseName, gen, ".log", s.Options.EightDigitNames))
}

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	if o.BaseName == "" {
		o.BaseName = "edb"
	}
	if o.DBName == "" {
		o.DBName = "synth.edb"
	}
	if o.PageSize == 0 {
		o.PageSize = 4096
	}
	if o.Pages == 0 {
		o.Pages = 256
	}
	if o.UsedPages == 0 {
		o.UsedPages = o.Pages
	}
	if o.State == 0 {
		o.State = format.DBStateCleanShutdown
	}
	if o.FirstGen == 0 {
		o.FirstGen = 1
	}
	if o.CurrentGen == 0 {
		o.CurrentGen = o.FirstGen + 3
	}
	if o.CheckpointGen == 0 {
		o.CheckpointGen = o.CurrentGen
		if o.State != format.DBStateCleanShutdown && o.CurrentGen > o.FirstGen {
			o.CheckpointGen = o.CurrentGen - 1
		}
	}
	if o.LogSize == 0 {
		o.LogSize = 64 << 10
	}
	if o.Time.IsZero() {
		o.Time = DefaultTime
	}
	return o
}

// maxGen keeps generations inside the positive int32 range of LGPOS.
const maxGen = 1<<31 - 1

// validBase reports whether base is a base name format recognises in log
// file names, so that the generated set can be scanned back.
func validBase(base string) bool {
	ln, ok := format.ParseLogNameBase(base+".log", base)
	return ok && ln.Kind == format.LogCurrent
}

// validate rejects options no valid set can be made from.
func (o *Options) validate() error {
	switch {
	case o.Dir == "":
		return errors.New("no output directory")
	case !validBase(o.BaseName):
		return fmt.Errorf("base name %q: need exactly 3 printable ASCII characters usable in a file name", o.BaseName)
	case o.DBName == "" || strings.ContainsAny(o.DBName, `/\:`) || o.DBName == "." || o.DBName == "..":
		return fmt.Errorf("database name %q is not a plain file name", o.DBName)
	case !format.ValidPageSize(o.PageSize):
		return fmt.Errorf("page size %d: need a power of two from 2048 to 32768", o.PageSize)
	case o.Pages > 1<<32-3:
		return fmt.Errorf("%d pages exceed the 32-bit page numbers", o.Pages)
	case o.UsedPages > o.Pages:
		return fmt.Errorf("%d used pages but only %d pages", o.UsedPages, o.Pages)
	case o.State != format.DBStateCleanShutdown && o.State != format.DBStateDirtyShutdown:
		return fmt.Errorf("state %s: only CleanShutdown and DirtyShutdown are generated", o.State)
	case o.CurrentGen < o.FirstGen:
		return fmt.Errorf("current generation %d is below the first generation %d", o.CurrentGen, o.FirstGen)
	case o.CurrentGen > maxGen:
		return fmt.Errorf("current generation %d exceeds %d", o.CurrentGen, maxGen)
	case o.CheckpointGen < o.FirstGen || o.CheckpointGen > o.CurrentGen:
		return fmt.Errorf("checkpoint generation %d is outside the logs %d..%d", o.CheckpointGen, o.FirstGen, o.CurrentGen)
	case o.LogSize%format.LogSegmentSize != 0 || o.LogSize < 2*format.LogSegmentSize || o.LogSize/format.LogSegmentSize > 0xFFFF:
		return fmt.Errorf("log size %d: need a multiple of 4096 from 8192 to %d", o.LogSize, 0xFFFF*format.LogSegmentSize)
	}
	if ln, ok := format.ParseLogNameBase(o.DBName, o.BaseName); ok && ln.Kind != format.LogNotLog {
		return fmt.Errorf("database name %q would be taken for a %s", o.DBName, ln.Kind)
	}
	return nil
}

// Generate writes a complete ESE file set into o.Dir: the database
// o.DBName, the logs FirstGen..CurrentGen (the last one as <base>.log) and
// the checkpoint <base>.chk. Files of the same names are overwritten; other
// files in the directory are left alone. The database is streamed through
// one reused buffer, so sets of several GiB need little memory; ctx is
// checked between chunks.
func Generate(ctx context.Context, o Options) (*Set, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	p := newPlan(o)
	s := &Set{
		Dir:            o.Dir,
		BaseName:       o.BaseName,
		DBPath:         filepath.Join(o.Dir, o.DBName),
		CheckpointPath: filepath.Join(o.Dir, o.BaseName+".chk"),
		SignDb:         p.signDb,
		SignLog:        p.signLog,
		PageSize:       o.PageSize,
		Pages:          o.Pages,
		UsedPages:      o.UsedPages,
		State:          o.State,
		FirstGen:       o.FirstGen,
		CurrentGen:     o.CurrentGen,
		CheckpointGen:  o.CheckpointGen,
		Options:        o,
	}
	stats, err := p.writeDatabase(ctx, s.DBPath)
	if err != nil {
		return nil, fmt.Errorf("synth: database %s: %w", s.DBPath, err)
	}
	attach := p.attachInfo(stats)
	var prevXOR uint64
	if o.FirstGen > 1 {
		// The generation before the first is not on disk; any value will do,
		// but it must not depend on anything but the seed.
		r := newRNG(o.Seed, streamPrevXOR, uint64(o.FirstGen-1))
		prevXOR = r.next()
	}
	lw := newLogWriter(o.LogSize)
	for g := o.FirstGen; g <= o.CurrentGen; g++ {
		path := s.archivedLogPath(g)
		if g == o.CurrentGen {
			path = s.CurrentLogPath()
		}
		h := p.logHeader(g, attach, prevXOR)
		prevXOR, err = lw.write(path, h, o.Seed)
		if err != nil {
			return nil, fmt.Errorf("synth: log %s: %w", path, err)
		}
		s.LogPaths = append(s.LogPaths, path)
	}
	if err := os.WriteFile(s.CheckpointPath, p.checkpoint(attach).Encode(), 0o644); err != nil {
		return nil, fmt.Errorf("synth: checkpoint: %w", err)
	}
	return s, nil
}
