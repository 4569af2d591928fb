package host

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"strings"
	"time"

	"github.com/esesnap/esesnap/protocol"
)

// ManifestName is the name of the manifest in a backup set. It is always
// the last entry written, so a set without it is incomplete.
const ManifestName = "manifest.json"

// FormatVersion is the version of the backup-set format this package writes
// and the newest it reads. It changes only when an older reader would
// misread a set; added fields do not change it.
const FormatVersion = 1

// maxManifestBytes bounds how much of a manifest Verify reads into memory:
// even a set of thousands of logs needs far less.
const maxManifestBytes = 64 << 20

// Manifest describes a backup set: who made it, when, from what, and every
// file it holds with its size and SHA-256. It is written last and only after
// every file was stored, with Complete true; its presence is what makes a
// set complete.
//
// End runs only after the set is durably stored, so the manifest cannot say
// what End did: it records TruncateRequested, and the fields End reports
// (the header field the backup was recorded in, the logs it truncated) are
// in Result.End.
type Manifest struct {
	// FormatVersion is FormatVersion of the writer.
	FormatVersion int `json:"format_version"`
	// Tool is the host program that wrote the set.
	Tool Component `json:"tool"`
	// Plugin is the snapshot plugin that produced the files (Info.Name,
	// Info.Version).
	Plugin Component `json:"plugin"`
	// Kind is the backup kind: "full", "incremental", "copy" or
	// "differential".
	Kind protocol.Kind `json:"kind"`
	// TruncateRequested says whether the host asked End to truncate logs
	// once the set was stored; whether it did is in Result.End.
	TruncateRequested bool `json:"truncate_requested"`
	// Started is when the session began (UTC); tar entries carry it as
	// their modification time.
	Started time.Time `json:"started"`
	// Finished is when the last file was stored (UTC), just before the
	// manifest was written.
	Finished time.Time `json:"finished"`
	// Source says what was backed up.
	Source SourceInfo `json:"source"`
	// Files lists the set's files in the order they were written:
	// databases, then logs.
	Files []ManifestFile `json:"files"`
	// ESE holds what the ESE headers in the streamed files say; nil for a
	// set whose files are not ESE databases and logs.
	ESE *ESEInfo `json:"ese,omitempty"`
	// Complete is true in every manifest this package writes; a reader
	// refuses a manifest without it.
	Complete bool `json:"complete"`
}

// Component names a program and its version.
type Component struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// SourceInfo records the source of a backup as the host requested it: its
// location and the options the plugin describes as not secret (an option
// the plugin's Info does not list, or lists as Secret, is never recorded:
// options may hold secrets). Sets written before options existed have the
// ESE fields InstanceDir, LogDir, SystemDir, BaseName and Databases
// instead; they are still read, never written.
type SourceInfo struct {
	Description string            `json:"description,omitempty"`
	Location    string            `json:"location,omitempty"`
	Options     map[string]string `json:"options,omitempty"`

	InstanceDir string   `json:"instance_dir,omitempty"` // older sets: the location
	LogDir      string   `json:"log_dir,omitempty"`      // older sets: option log-dir
	SystemDir   string   `json:"system_dir,omitempty"`   // older sets: option system-dir
	BaseName    string   `json:"base_name,omitempty"`    // older sets: option base-name
	Databases   []string `json:"databases,omitempty"`    // older sets: option database
}

// Source returns the recorded source as location and options, for a set of
// either form.
func (s SourceInfo) Source() protocol.Source {
	src := protocol.Source{Location: s.Location, Options: maps.Clone(s.Options)}
	if src.Location == "" {
		src.Location = s.InstanceDir
	}
	for k, v := range map[string]string{protocol.OptLogDir: s.LogDir, protocol.OptSystemDir: s.SystemDir,
		protocol.OptBaseName: s.BaseName, protocol.OptDatabase: protocol.JoinList(s.Databases)} {
		if _, ok := src.Options[k]; !ok && v != "" {
			if src.Options == nil {
				src.Options = map[string]string{}
			}
			src.Options[k] = v
		}
	}
	return src
}

// recordedSource is what a manifest records of src: the location and the
// options info lists and does not mark Secret.
func recordedSource(description string, src protocol.Source, info protocol.Info) SourceInfo {
	si := SourceInfo{Description: description, Location: src.Location}
	for k, v := range src.Options {
		if o, ok := info.Option(k); ok && !o.Secret {
			if si.Options == nil {
				si.Options = map[string]string{}
			}
			si.Options[k] = v
		}
	}
	return si
}

// ManifestFile is one file of a backup set.
type ManifestFile struct {
	// Name is the file's name in the set: the base name of OriginalName.
	Name string `json:"name"`
	// OriginalName is the name the plugin reported (for ESE the full path).
	OriginalName string `json:"original_name"`
	// Role is "database", "log" or "other".
	Role protocol.Role `json:"role"`
	// Size is the file's length in bytes.
	Size int64 `json:"size"`
	// SHA256 is the lower-case hex SHA-256 of the file's bytes.
	SHA256 string `json:"sha256"`
	// PageSize is the database page size, from the plugin or the file's
	// ESE header; 0 when unknown.
	PageSize int `json:"page_size,omitempty"`
	// Generation is a log's generation, from the plugin or the log header;
	// 0 for other files.
	Generation uint32 `json:"generation,omitempty"`
	// Delta, when set, says the set holds the file as a page delta against
	// an earlier set (see FileDelta); only restoring rebuilds the file.
	Delta *FileDelta `json:"delta,omitempty"`
}

// ESEInfo is what the ESE headers of the streamed files say about the set:
// enough to restore it (base name and log range) and to check that its
// databases and logs belong together (signatures).
type ESEInfo struct {
	// PageSize is the database page size.
	PageSize int `json:"page_size"`
	// BaseName is the three-character log base name, such as "edb".
	BaseName string `json:"base_name,omitempty"`
	// GenLow and GenHigh are the lowest and highest log generation in the
	// set; every generation between them is present. Both are 0 when the
	// set holds no logs.
	GenLow  uint32 `json:"gen_low"`
	GenHigh uint32 `json:"gen_high"`
	// SignLog is the signature of the log stream.
	SignLog *SignatureText `json:"sign_log,omitempty"`
	// Databases describes each streamed database.
	Databases []ESEDatabase `json:"databases,omitempty"`
}

// ESEDatabase is what the header snapshot at the start of a streamed
// database says.
type ESEDatabase struct {
	// Name is the database's file name in the set.
	Name string `json:"name"`
	// SignDb is the database's signature.
	SignDb SignatureText `json:"sign_db"`
	// SignLog is the signature of the log stream the database belongs to.
	SignLog SignatureText `json:"sign_log"`
	// BackupGenLow is bkinfoFullCur.genLow of the header snapshot: the
	// first log generation a restore of this copy replays.
	BackupGenLow uint32 `json:"backup_gen_low"`
	// State is the database state the header recorded (e.g. "dirty
	// shutdown"); a live database is dirty in a backup.
	State string `json:"state,omitempty"`
}

// SignatureText is an ESE signature in two forms: Hex, the 28 bytes as ESE
// stores them (lower-case hex), compared exactly; and Text, the random
// number and creation time, for people.
type SignatureText struct {
	Hex  string `json:"hex"`
	Text string `json:"text"`
}

// Marshal encodes m as indented JSON with a final newline. The encoding is
// deterministic: the same manifest gives the same bytes.
func (m *Manifest) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return append(b, '\n'), nil
}

// ErrIncomplete means a backup set has no manifest, or one that does not
// say it is complete: the backup that wrote it did not finish.
var ErrIncomplete = errors.New("backup set is incomplete")

// ReadManifest decodes and checks a manifest: a format version this package
// reads, Complete set, and safe, unique file names with valid roles, sizes
// and hashes. The names are checked because the manifest decides which files
// Verify opens.
func ReadManifest(r io.Reader) (*Manifest, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	if len(b) > maxManifestBytes {
		return nil, fmt.Errorf("read manifest: larger than %d bytes", maxManifestBytes)
	}
	// encoding/json matches keys case-insensitively, keeps the last of
	// duplicate keys and stops after the first value: the key walk refuses
	// all three, so a manifest means exactly one thing.
	if err := checkManifestKeys(b); err != nil {
		return nil, fmt.Errorf("decode manifest: %w: %w", ErrBadManifest, err)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode manifest: %w: %w", ErrBadManifest, err)
	}
	if err := m.check(); err != nil {
		if errors.Is(err, ErrIncomplete) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrBadManifest, err)
	}
	return &m, nil
}

// ErrBadManifest means a manifest is not one this program wrote: it is not
// strict JSON of the manifest's fields (unknown, duplicate or wrongly cased
// keys, data after the value) or its values are out of range.
var ErrBadManifest = errors.New("the manifest is not valid")

// checkManifestKeys walks the JSON in b against the Manifest type: every
// object key must be a field's exact json name and appear once, and
// nothing but white space may follow the value.
func checkManifestKeys(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := walkKeys(dec, reflect.TypeFor[Manifest](), "manifest"); err != nil {
		return err
	}
	if tok, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return fmt.Errorf("data after the manifest's JSON value: %w", err)
		}
		return fmt.Errorf("data after the manifest's JSON value (%v at byte %d)", tok, dec.InputOffset())
	}
	return nil
}

// walkKeys consumes one JSON value from dec and checks the keys of every
// object in it against t's json field names (t is nil below values whose
// type has no fields to check). path names the value in errors.
func walkKeys(dec *json.Decoder, t reflect.Type, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch tok {
	case json.Delim('{'):
		var fields map[string]reflect.Type
		if t != nil && t.Kind() == reflect.Struct {
			fields = jsonFields(t)
		}
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			key, _ := kt.(string)
			if seen[key] {
				return fmt.Errorf("%s: key %q appears twice", path, key)
			}
			seen[key] = true
			var ft reflect.Type
			if fields != nil {
				var ok bool
				if ft, ok = fields[key]; !ok {
					for name := range fields {
						if strings.EqualFold(name, key) {
							return fmt.Errorf("%s: key %q is spelled %q in a manifest (keys are case-sensitive)", path, key, name)
						}
					}
					return fmt.Errorf("%s: unknown key %q", path, key)
				}
			}
			if err := walkKeys(dec, ft, path+"."+key); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	case json.Delim('['):
		var et reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			et = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := walkKeys(dec, et, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// jsonFields maps the json names of t's exported fields to their types.
// Fields whose type decodes itself from text (time.Time, Kind, Role) get a
// nil type: their values are not objects with keys of ours.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		ft := f.Type
		if reflect.PointerTo(ft).Implements(textUnmarshaler) || reflect.PointerTo(ft).Implements(jsonUnmarshaler) {
			ft = nil
		}
		fields[name] = ft
	}
	return fields
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
)

// check validates a decoded manifest.
func (m *Manifest) check() error {
	switch {
	case m.FormatVersion < 1:
		return fmt.Errorf("manifest: format_version %d is not a backup-set format", m.FormatVersion)
	case m.FormatVersion > DeltaFormatVersion:
		return fmt.Errorf("manifest: format_version %d is newer than this program reads (%d)", m.FormatVersion, DeltaFormatVersion)
	case !m.Complete:
		return fmt.Errorf("%w: the manifest does not say complete", ErrIncomplete)
	case !m.Kind.Valid():
		return fmt.Errorf("manifest: kind %s is not a backup kind", m.Kind)
	}
	names := nameSet{}
	for i, f := range m.Files {
		if err := ValidateName(f.Name); err != nil {
			return fmt.Errorf("manifest: file %d: %w", i, err)
		}
		if err := names.add(f.Name); err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
		if !f.Role.Valid() {
			return fmt.Errorf("manifest: file %s: role %s is not valid", f.Name, f.Role)
		}
		if f.Size < 0 {
			return fmt.Errorf("manifest: file %s: negative size %d", f.Name, f.Size)
		}
		if len(f.SHA256) != 64 || !isLowerHex(f.SHA256) {
			return fmt.Errorf("manifest: file %s: sha256 %q is not 64 lower-case hex digits", f.Name, f.SHA256)
		}
		if d := f.Delta; d != nil {
			switch {
			case m.FormatVersion < DeltaFormatVersion:
				return fmt.Errorf("manifest: file %s is a page delta in a format_version %d set", f.Name, m.FormatVersion)
			case d.BlockSize <= 0 || d.EntrySize < 0 || d.Base == "":
				return fmt.Errorf("manifest: file %s: page delta without block size, entry size or base", f.Name)
			case len(d.EntrySHA256) != 64 || !isLowerHex(d.EntrySHA256) || len(d.BaseSHA256) != 64 || !isLowerHex(d.BaseSHA256):
				return fmt.Errorf("manifest: file %s: page delta hashes are not 64 lower-case hex digits", f.Name)
			}
			if err := ValidateName(d.Entry); err != nil {
				return fmt.Errorf("manifest: file %s: delta entry: %w", f.Name, err)
			}
			if err := names.add(d.Entry); err != nil {
				return fmt.Errorf("manifest: %w", err)
			}
		}
	}
	return nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
