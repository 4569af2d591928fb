package restic

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/esesnap/esesnap/host"
)

// A repository's config never changes, so the estimate keeps it in a small
// cache file per repository location and saves a `restic cat config` (and
// its key derivation) on every later backup. A location that now holds
// another repository shows up as an estimate far from restic's data_added;
// the sink then drops the cached config (see Sink.Commit).

// Location says where o's repository is, as the user gave it.
func (o Options) Location() string {
	if o.Repo != "" {
		return absLocal(o.Repo)
	}
	env := o.Env
	if env == nil {
		env = os.Environ()
	}
	var loc []string
	for _, kv := range env {
		for _, k := range []string{"RESTIC_REPOSITORY=", "RESTIC_REPOSITORY_FILE="} {
			if v, ok := strings.CutPrefix(kv, k); ok {
				loc = append(loc, k+absLocal(v))
			}
		}
	}
	return strings.Join(loc, "\x00")
}

// configCachePath is the cache file of o's repository, or "" when there
// is no cache directory or no location.
func (o Options) configCachePath() string {
	dir := o.CacheDir
	if dir == "-" {
		return ""
	}
	if dir == "" {
		ucd, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(ucd, "esesnap", "restic-config")
	}
	loc := o.Location()
	if loc == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(loc))
	return filepath.Join(dir, hex.EncodeToString(sum[:16])+".json")
}

// CachedConfig returns the cached config of o's repository.
func (o Options) CachedConfig() (Config, bool) {
	path := o.configCachePath()
	if path == "" {
		return Config{}, false
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, false
	}
	var c Config
	if json.Unmarshal(data, &c) != nil || c.ID == "" || c.ChunkerPolynomial == 0 || !c.ChunkerPolynomial.Irreducible() {
		return Config{}, false
	}
	return c, true
}

// cacheConfig stores c as the config of o's repository; failure only
// costs a `restic cat config` next time.
func (o Options) cacheConfig(c Config) {
	path := o.configCachePath()
	if path == "" {
		return
	}
	if data, err := json.Marshal(c); err == nil {
		_ = host.WriteFileAtomic(path, data, 0o600) // failure only costs a restic cat config
	}
}

// forgetConfig removes the cached config of o's repository.
func (o Options) forgetConfig() {
	if path := o.configCachePath(); path != "" {
		os.Remove(path)
	}
}

// absLocal makes a local repository path absolute, so that the same
// relative path run from two directories names two repositories; backend
// URLs (sftp:, s3:, rest:, ...) are left as they are.
func absLocal(repo string) string {
	if i := strings.Index(repo, ":"); i > 1 && !strings.HasPrefix(repo, "local:") {
		return repo // a backend URL (a one-letter prefix is a Windows drive)
	}
	path := strings.TrimPrefix(repo, "local:")
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return repo
}
