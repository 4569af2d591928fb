package restic

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/esesnap/esesnap/internal/durable"
)

// A repository's config never changes, so the estimate keeps it in a small
// cache file per repository location and saves a `restic cat config` (and
// its key derivation) on every later backup. For a local repository the
// cache entry also holds the SHA-256 of the encrypted config file, which
// differs for every repository (random nonce), so a location that now holds
// another repository is noticed before the estimate starts. Elsewhere such
// a repository shows up as an estimate far from restic's data_added; the
// sink then drops the cached config (see Sink.Commit).

// cachedConfig is one cache file.
type cachedConfig struct {
	Config
	// ConfigFile is the hex SHA-256 of a local repository's config file.
	ConfigFile string `json:"config_file_sha256,omitempty"`
}

// Location says where o's repository is, as the user gave it.
func (o Options) Location() string {
	if o.Repo != "" {
		return absLocal(o.Repo)
	}
	var loc []string
	for _, kv := range o.environ() {
		for _, k := range []string{"RESTIC_REPOSITORY=", "RESTIC_REPOSITORY_FILE="} {
			if v, ok := strings.CutPrefix(kv, k); ok {
				loc = append(loc, k+absLocal(v))
			}
		}
	}
	return strings.Join(loc, "\x00")
}

// configCachePath is the config cache file of o's repository, or "" when
// there is no cache directory or no location.
func (o Options) configCachePath() string { return o.cachePath(".json") }

// cachePath is the cache file of o's repository with the given extension,
// or "" when there is no cache directory or no location.
func (o Options) cachePath(ext string) string {
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
	return filepath.Join(dir, hex.EncodeToString(sum[:16])+ext)
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
	var c cachedConfig
	if json.Unmarshal(data, &c) != nil || c.ID == "" || c.ChunkerPolynomial == 0 || !c.ChunkerPolynomial.Irreducible() {
		return Config{}, false
	}
	if sum := o.configFileSum(); sum != c.ConfigFile {
		return Config{}, false // another repository at this path (or no longer a local one)
	}
	return c.Config, true
}

// cacheConfig stores c as the config of o's repository; failure only
// costs a `restic cat config` next time.
func (o Options) cacheConfig(c Config, configFile string) {
	path := o.configCachePath()
	if path == "" {
		return
	}
	if data, err := json.Marshal(cachedConfig{Config: c, ConfigFile: configFile}); err == nil {
		_ = durable.WriteFileAtomic(path, data, 0o600) // failure only costs a restic cat config
	}
}

// forgetConfig removes the cached config of o's repository.
func (o Options) forgetConfig() {
	if path := o.configCachePath(); path != "" {
		os.Remove(path)
	}
}

// configFileSum is the hex SHA-256 of the config file of o's repository
// when it is a local one, or "" (a backend URL, or no readable config).
// Reading it costs no key derivation, unlike `restic cat config`.
func (o Options) configFileSum() string {
	dir := o.localDir()
	if dir == "" {
		return ""
	}
	data, err := os.ReadFile(filepath.Join(dir, "config"))
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// localDir is the directory of o's repository when it is on a local path
// (given as -r or RESTIC_REPOSITORY), or "" for a backend URL.
func (o Options) localDir() string {
	repo := o.Repo
	if repo == "" {
		for _, kv := range o.environ() {
			if v, ok := strings.CutPrefix(kv, "RESTIC_REPOSITORY="); ok {
				repo = v
			}
		}
	}
	if repo == "" || isBackendURL(repo) {
		return ""
	}
	return absLocal(repo)
}

// ErrNotARepository is the error of a local repository location that
// holds no restic repository (no config file).
var ErrNotARepository = errors.New("no restic repository there")

// CheckLocal checks, without running restic (each run costs a key
// derivation), that a repository given as a local path (-r or
// RESTIC_REPOSITORY) exists and its config is readable. Repositories
// elsewhere (sftp:, s3:, rest:, ...) are not checked here: restic's own
// error says what is wrong with them.
func (o Options) CheckLocal() error {
	dir := o.localDir()
	if dir == "" {
		return nil
	}
	f, err := os.Open(filepath.Join(dir, "config"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: %w (it has no config file)", dir, ErrNotARepository)
	case err != nil:
		return fmt.Errorf("restic repository %s: %w", dir, err)
	}
	return f.Close()
}

// isBackendURL says whether repo names a backend (sftp:, s3:, rest:, ...)
// rather than a local path; a one-letter prefix is a Windows drive.
func isBackendURL(repo string) bool {
	i := strings.Index(repo, ":")
	return i > 1 && !strings.HasPrefix(repo, "local:")
}

// absLocal makes a local repository path absolute, so that the same
// relative path run from two directories names two repositories; backend
// URLs are left as they are.
func absLocal(repo string) string {
	if isBackendURL(repo) {
		return repo
	}
	path := strings.TrimPrefix(repo, "local:")
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return repo
}
