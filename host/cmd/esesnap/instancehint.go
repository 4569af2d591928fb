package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/protocol"
)

// instanceHint reads the identity of the ESE instance at src before the
// backup streams it: the log stream's signature from the instance's
// checkpoint file (in --system-dir, or the instance directory), as hex of
// the 28 bytes, the form the manifest's ese.sign_log has. It returns ""
// when there is no single readable checkpoint (a remote or live instance
// whose files esesnap cannot read, another kind of plugin); the identity
// is then known only from the streamed set.
func instanceHint(src protocol.Source) string {
	dir := src.Options[protocol.OptSystemDir]
	if dir == "" {
		dir = src.Location
	}
	if dir == "" {
		return ""
	}
	pattern := "*.chk"
	if base := src.Options[protocol.OptBaseName]; base != "" {
		pattern = base + ".chk"
	}
	matches, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil || len(matches) != 1 {
		return ""
	}
	if st, err := os.Stat(matches[0]); err != nil || !st.Mode().IsRegular() {
		return ""
	}
	chk, err := format.ReadCheckpoint(matches[0])
	if err != nil || chk.SignLog.IsZero() {
		return ""
	}
	var b [28]byte
	chk.SignLog.Put(b[:])
	return hex.EncodeToString(b[:])
}

// sourceTag is the esesnap:source tag of a source location: the location
// itself, or, when it holds a comma (restic splits tags on commas) or is
// long, a hash of it.
func sourceTag(location string) string {
	if len(location) <= 200 && !strings.ContainsAny(location, ",\n") {
		return "esesnap:source=" + location
	}
	return "esesnap:source=sha256:" + sha256Hex(location)[:32]
}

// sha256Hex is the lower-case hex SHA-256 of s.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
