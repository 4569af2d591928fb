package backupset

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/esesnap/esesnap/protocol"
)

// Format is the checks of one kind of backup set beyond sizes and hashes
// (ESE: pages, logs, the log chain), plugged into Backup and Verify by
// RegisterFormat. A set whose manifest names no format is verified by
// hashes alone.
type Format interface {
	// NewSection returns a pointer to a new, empty value of the format's
	// section of the manifest (Manifest.Sections), into which a manifest
	// read back is decoded strictly.
	NewSection() any
	// NewCollector returns what sees the files of one backup as they
	// stream, to record the format's metadata in the manifest and to
	// check the set before it is committed.
	NewCollector() Collector
	// HeadSize is how many bytes of a tar entry Sniff needs.
	HeadSize() int
	// Sniff looks at the first bytes of a tar entry (whose role is known
	// only from the manifest, which ends the stream): check says CheckFile
	// must see the whole entry; otherwise verdict is the format's verdict
	// on a file that is not of the format.
	Sniff(name string, head []byte) (check bool, verdict any)
	// CheckFile checks one stored file (size bytes at r) of the given role
	// (protocol.RoleUnspecified for a tar entry) and returns its verdict
	// for CheckSet. The error is only cancellation.
	CheckFile(ctx context.Context, r io.ReaderAt, size int64, name string, role protocol.Role) (verdict any, err error)
	// CheckSet judges the set from each file's verdict (absent for a file
	// that was not checked): it fills the format's parts of rep, clears
	// FileReport.OK of damaged files and returns one error per problem.
	CheckSet(ctx context.Context, rep *VerifyReport, verdicts map[string]any) []error
}

// Collector is a Format's view of one backup (see Format.NewCollector).
type Collector interface {
	// Write sees the chunk at offset off of the file being streamed; chunks
	// come in order and offset 0 starts a new file.
	Write(role protocol.Role, off int64, data []byte)
	// FileDone sees the manifest entry of the file just stored and may
	// fill in what the plugin left 0 (page size, generation).
	FileDone(f *ManifestFile)
	// Finish records the format's metadata in m; a non-nil warning says
	// why the set gets none (its files are not of the format).
	Finish(m *Manifest) (warning error)
	// Check runs the format's Verify checks on the set m as it streamed;
	// an error keeps the set from being committed.
	Check(ctx context.Context, m *Manifest) error
}

// ErrUnknownFormat means a set names a format no package registered, so
// its format checks cannot run.
var ErrUnknownFormat = errors.New("the set's format is not registered")

var formats struct {
	sync.RWMutex
	m map[string]Format
}

// RegisterFormat makes f the checks of sets of the given kind; a package
// implementing a format calls it from init. Registering a kind twice
// panics.
func RegisterFormat(kind string, f Format) {
	formats.Lock()
	defer formats.Unlock()
	if formats.m == nil {
		formats.m = map[string]Format{}
	}
	if _, dup := formats.m[kind]; dup {
		panic(fmt.Sprintf("host: set format %q registered twice", kind))
	}
	formats.m[kind] = f
}

// LookupFormat returns the format registered for kind.
func LookupFormat(kind string) (Format, bool) {
	formats.RLock()
	defer formats.RUnlock()
	f, ok := formats.m[kind]
	return f, ok
}

// NewCollectors returns a new Collector of every registered format, in
// kind order: the runner shows each the files of one backup, and the one
// whose files they are records its section of the manifest.
func NewCollectors() []Collector {
	var cs []Collector
	for _, f := range registeredFormats() {
		cs = append(cs, f.f.NewCollector())
	}
	return cs
}

// registeredFormats returns the registered formats by kind, in kind order.
func registeredFormats() []namedFormat {
	formats.RLock()
	defer formats.RUnlock()
	var out []namedFormat
	for k, f := range formats.m {
		out = append(out, namedFormat{k, f})
	}
	slices.SortFunc(out, func(a, b namedFormat) int { return cmp.Compare(a.kind, b.kind) })
	return out
}

// namedFormat is a registered Format with its kind.
type namedFormat struct {
	kind string
	f    Format
}

// SetFormat returns the kind of the set m describes: the key of its
// manifest's section (an ESE set: "ese"), or "" for a set checked by
// sizes and hashes alone.
func SetFormat(m *Manifest) string {
	if m == nil {
		return ""
	}
	for kind := range m.Sections {
		return kind
	}
	return ""
}

// formatOf returns the registered format of the set m describes, nil for
// a set of no format, or ErrUnknownFormat.
func formatOf(m *Manifest) (Format, error) {
	kind := SetFormat(m)
	if kind == "" {
		return nil, nil
	}
	f, ok := LookupFormat(kind)
	if !ok {
		return nil, fmt.Errorf("%w: the manifest describes a set of format %q and this program registers no such format, so only its hashes could be checked", ErrUnknownFormat, kind)
	}
	return f, nil
}
