package backupset

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameBytes is the longest name a file may have in a backup set, the
// limit of most file systems for one path component.
const MaxNameBytes = 255

// partialSuffix marks a file of a directory set that is still being written.
// Names ending in it are refused so that no set file can collide with the
// temporary name of another.
const partialSuffix = ".partial"

// BaseName reduces a name reported by a plugin (for ESE the engine's full
// path, such as C:\Windows\System32\sru\SRUDB.dat or /data/SRUDB.dat) to the
// part after its last '/' or '\', whatever the host's own separator is.
func BaseName(reported string) string {
	if i := strings.LastIndexAny(reported, `/\`); i >= 0 {
		return reported[i+1:]
	}
	return reported
}

// SetName returns the name a file reported by a plugin gets in a backup set:
// its base name, which must pass ValidateName. It is the only way a plugin's
// names reach the file system, so a hostile or buggy plugin cannot make the
// host write outside the set.
func SetName(reported string) (string, error) {
	name := BaseName(reported)
	if err := ValidateName(name); err != nil {
		return "", fmt.Errorf("file %q reported by the plugin: %w", reported, err)
	}
	return name, nil
}

// ValidateName checks that name can be a file of a backup set on every
// platform the set may be restored on: a single path component that is
// not empty, "." or "..", has no separator, NUL, control character or
// character Windows forbids in names (<>:"|?*), is valid UTF-8 (so the JSON
// manifest records it exactly), is at most MaxNameBytes long, is not a
// Windows device name (CON, NUL, COM1, ...), does not end in a dot or a
// space (Windows would silently strip them), and is neither the manifest's
// name nor a temporary name of the directory form.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("invalid name: empty")
	case name == "." || name == "..":
		return fmt.Errorf("invalid name %q: a directory reference", name)
	case len(name) > MaxNameBytes:
		return fmt.Errorf("invalid name %.40q...: %d bytes, more than %d", name, len(name), MaxNameBytes)
	case !utf8.ValidString(name):
		return fmt.Errorf("invalid name %q: not valid UTF-8", name)
	case strings.EqualFold(name, ManifestName):
		return fmt.Errorf("invalid name %q: reserved for the manifest", name)
	case hasSuffixFold(name, partialSuffix):
		return fmt.Errorf("invalid name %q: the %s suffix is reserved for files being written", name, partialSuffix)
	case strings.HasSuffix(name, ".") || strings.HasSuffix(name, " "):
		return fmt.Errorf("invalid name %q: ends in a dot or a space", name)
	}
	for _, r := range name {
		switch {
		case r == '/' || r == '\\':
			return fmt.Errorf("invalid name %q: contains a path separator", name)
		case r == 0:
			return fmt.Errorf("invalid name %q: contains NUL", name)
		case unicode.IsControl(r):
			return fmt.Errorf("invalid name %q: contains control character %U", name, r)
		case strings.ContainsRune(`<>:"|?*`, r):
			return fmt.Errorf("invalid name %q: contains %q, which Windows does not allow", name, r)
		}
	}
	if windowsDevice(name) {
		return fmt.Errorf("invalid name %q: a Windows device name", name)
	}
	return nil
}

// windowsDevice reports whether name, with or without an extension, is one
// of the device names Windows resolves in every directory.
func windowsDevice(name string) bool {
	stem, _, _ := strings.Cut(name, ".")
	stem = strings.ToUpper(strings.TrimRight(stem, " "))
	switch stem {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(stem) == 4 && (strings.HasPrefix(stem, "COM") || strings.HasPrefix(stem, "LPT")) {
		c := stem[3]
		return c >= '0' && c <= '9'
	}
	return false
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// Names remembers the names of one backup set, case-insensitively,
// because the set may be restored onto a file system that folds case
// (NTFS, APFS) where two names differing in case are one file.
type Names map[string]string

// Assign returns the name a reported file gets in this set and records it.
// It is SetName's name unless the set already holds that name, as when an
// instance keeps two databases of one file name in two directories
// ({GUID1}\catdb and {GUID2}\catdb, as Windows' CatRoot2 does): then the
// reported path's parent directory is put in front ("{GUID2}_catdb"), and
// if that is taken too, a number before the extension ("catdb~2"). The
// manifest keeps the reported path (ManifestFile.OriginalName), from which
// a restore puts each file back where it belongs. A path reported twice, or
// a bare name without a directory that is already taken, is a plugin's
// error and refused.
func (s Names) Assign(reported string) (string, error) {
	name, err := SetName(reported)
	if err != nil {
		return "", err
	}
	rkey := reportedKey(reported)
	if prev, dup := s[rkey]; dup {
		return "", fmt.Errorf("file %q reported by the plugin: the plugin already reported %q", reported, prev)
	}
	dir := strings.TrimRight(reported[:len(reported)-len(name)], `/\`)
	if _, taken := s[strings.ToLower(name)]; !taken || dir == "" {
		if err := s.add(name); err != nil {
			return "", fmt.Errorf("file %q reported by the plugin: %w", reported, err)
		}
		s[rkey] = reported
		return name, nil
	}
	var cands []string
	if parent := BaseName(dir); parent != "" {
		cands = append(cands, safeComponent(parent)+"_"+name)
	}
	stem, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		stem, ext = name[:i], name[i:]
	}
	for n := 2; n <= 1000; n++ {
		cands = append(cands, fmt.Sprintf("%s~%d%s", stem, n, ext))
	}
	for _, c := range cands {
		if len(c) > MaxNameBytes || ValidateName(c) != nil {
			continue
		}
		if _, taken := s[strings.ToLower(c)]; !taken {
			s[rkey] = reported
			return c, s.add(c)
		}
	}
	return "", fmt.Errorf("file %q reported by the plugin: %w", reported, s.add(name))
}

// NameFits reports whether name is a name assign can give the file the
// plugin reported as original: its base name, or one of the names that
// tell two files of one base name apart ("{GUID2}_catdb", "catdb~2").
// Set formats use it to check a manifest's names against their originals.
func NameFits(name, original string) bool {
	base := BaseName(original)
	if name == base {
		return true
	}
	dir := strings.TrimRight(original[:len(original)-len(base)], `/\`)
	if parent := BaseName(dir); parent != "" && name == safeComponent(parent)+"_"+base {
		return true
	}
	stem, ext := base, ""
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		stem, ext = base[:i], base[i:]
	}
	rest, ok := strings.CutPrefix(name, stem+"~")
	if !ok {
		return false
	}
	num, ok := strings.CutSuffix(rest, ext)
	if !ok || num == "" || num[0] == '0' {
		return false
	}
	for _, r := range num {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// reportedKey is the Names key under which Assign remembers a reported
// path. It starts with NUL, which no valid name contains, so it never
// collides with a name.
func reportedKey(reported string) string { return "\x00" + strings.ToLower(reported) }

// safeComponent maps the characters ValidateName refuses to '_', so that a
// directory name can become part of a set name.
func safeComponent(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`/\<>:"|?*`, r) || !utf8.ValidRune(r) {
			return '_'
		}
		return r
	}, s)
}

// add records name, or fails when the set already holds it in any case.
func (s Names) add(name string) error {
	key := strings.ToLower(name)
	if prev, ok := s[key]; ok {
		return fmt.Errorf("duplicate name %q: the set already holds %q", name, prev)
	}
	s[key] = name
	return nil
}
