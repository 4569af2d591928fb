package backupset

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
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
	// Sections holds the set format's own part of the manifest (at most
	// one), keyed by the format's kind, which is its key in the JSON
	// object: an ESE set has "ese" (package ese/eseset). The value is the
	// format's section type (Format.NewSection) for a registered kind and
	// a json.RawMessage for a kind no package registered. A set without a
	// section is checked by sizes and hashes alone.
	Sections map[string]any `json:"-"`
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
	Description string `json:"description,omitempty"`
	// Host is the machine the source lives on, as the host program named
	// it; with Location it identifies the source across backups.
	Host     string            `json:"host,omitempty"`
	Location string            `json:"location,omitempty"`
	Options  map[string]string `json:"options,omitempty"`

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

// RecordSource is what a manifest records of src: the location and the
// options info lists and does not mark Secret.
func RecordSource(description, host string, src protocol.Source, info protocol.Info) SourceInfo {
	si := SourceInfo{Description: description, Host: host, Location: src.Location}
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

// Section returns the section of kind, nil when the manifest has none.
func (m *Manifest) Section(kind string) any {
	if m == nil {
		return nil
	}
	return m.Sections[kind]
}

// SetSection makes v the manifest's section of kind, replacing any other:
// a set has one format.
func (m *Manifest) SetSection(kind string, v any) {
	m.Sections = map[string]any{kind: v}
}

// plainManifest is Manifest without its methods, for encoding/json.
type plainManifest Manifest

// MarshalJSON encodes the manifest's fields and, before "complete", its
// section under the format's kind.
func (m Manifest) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(plainManifest(m))
	if err != nil || len(m.Sections) == 0 {
		return b, err
	}
	fields := jsonFields(reflect.TypeFor[plainManifest]())
	const tail = `,"complete":`
	at := bytes.LastIndex(b, []byte(tail))
	if at < 0 {
		return nil, errors.New("encode manifest: no complete field")
	}
	var out bytes.Buffer
	out.Write(b[:at])
	for _, kind := range slices.Sorted(maps.Keys(m.Sections)) {
		if _, clash := fields[kind]; clash || !validKind(kind) {
			return nil, fmt.Errorf("encode manifest: %q cannot be a format's section", kind)
		}
		v, err := json.Marshal(m.Sections[kind])
		if err != nil {
			return nil, fmt.Errorf("encode manifest section %q: %w", kind, err)
		}
		fmt.Fprintf(&out, ",%q:", kind)
		out.Write(v)
	}
	out.Write(b[at:])
	return out.Bytes(), nil
}

// UnmarshalJSON decodes the manifest's fields, refusing unknown ones, and
// any other top-level key as a format's section: into the registered
// format's section type (strictly), or as raw JSON for a kind no package
// registered.
func (m *Manifest) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	fields := jsonFields(reflect.TypeFor[plainManifest]())
	sections := map[string]any{}
	for k, v := range raw {
		if _, ok := fields[k]; ok {
			continue
		}
		delete(raw, k)
		if !isSection(k, v) {
			return fmt.Errorf("unknown key %q", k)
		}
		f, ok := LookupFormat(k)
		if !ok {
			sections[k] = v
			continue
		}
		sec := f.NewSection()
		if err := decodeStrict(v, sec); err != nil {
			return fmt.Errorf("section %q: %w", k, err)
		}
		sections[k] = sec
	}
	rest, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	var p plainManifest
	if err := decodeStrict(rest, &p); err != nil {
		return err
	}
	*m = Manifest(p)
	if len(sections) > 0 {
		m.Sections = sections
	}
	return nil
}

// decodeStrict decodes b into v, refusing fields v does not have.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// isSection reports whether a top-level key of a manifest that is not one
// of its fields can be a format's section: a kind's name with an object.
func isSection(key string, value json.RawMessage) bool {
	v := bytes.TrimLeft(value, " \t\r\n")
	return validKind(key) && len(v) > 0 && v[0] == '{'
}

// validKind reports whether s can name a set format: lower-case letters,
// digits and dashes, starting with a letter, as "ese".
func validKind(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
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
	if err := json.Unmarshal(b, &m); err != nil {
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
	// The first value's top-level object, by key (what follows it is the
	// walk's to refuse).
	var top map[string]json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&top); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	if err := walkManifestKeys(dec, top); err != nil {
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

// walkManifestKeys is walkKeys for the manifest's top-level object, whose
// keys are the manifest's fields and one format's section: a registered
// kind's section is walked against its type, an unregistered kind's is
// left to Verify (ErrUnknownFormat). top holds the object's values by key,
// to tell a section (an object) from an unknown field.
func walkManifestKeys(dec *json.Decoder, top map[string]json.RawMessage) error {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		if err == nil {
			err = fmt.Errorf("%v is not an object", tok)
		}
		return fmt.Errorf("manifest: %w", err)
	}
	fields := jsonFields(reflect.TypeFor[plainManifest]())
	seen := map[string]bool{}
	sections := 0
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
		key, _ := kt.(string)
		if seen[key] {
			return fmt.Errorf("manifest: key %q appears twice", key)
		}
		seen[key] = true
		ft, ok := fields[key]
		if !ok {
			for name := range fields {
				if strings.EqualFold(name, key) {
					return fmt.Errorf("manifest: key %q is spelled %q in a manifest (keys are case-sensitive)", key, name)
				}
			}
			if !isSection(key, top[key]) {
				return fmt.Errorf("manifest: unknown key %q", key)
			}
			if sections++; sections > 1 {
				return fmt.Errorf("manifest: section %q is a second format's section; a set has one format", key)
			}
			if f, registered := LookupFormat(key); registered {
				ft = reflect.TypeOf(f.NewSection())
			}
		}
		if err := walkKeys(dec, ft, "manifest."+key); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("manifest: %w", err)
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
	names := Names{}
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
