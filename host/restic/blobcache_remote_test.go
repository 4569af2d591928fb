package restic

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/esesnap/esesnap/internal/testservers"
)

// TestRemoteBlobCache: a repository on a real REST server. Once a backup
// from this host listed the blobs, the next backups estimate from the
// cache keyed by restic's own cached index directory, with no restic cat
// or restic list (a test double refuses both) and no listing of index/ on
// the server besides restic backup's own. Another host's backup is seen
// here only when a restic run on this host loads the index: after that the
// cache is not used and restic lists the blobs again.
func TestRemoteBlobCache(t *testing.T) {
	local := testRepo(t)
	srv := testservers.REST(t)
	proxy := testservers.NewCountingProxy(t, srv)
	o := local
	o.Repo = srv.RepoVia(proxy.Addr)
	o.Env = append(os.Environ(), "RESTIC_PASSWORD=esesnap-test", "RESTIC_CACHE_DIR="+t.TempDir())
	if err := Init(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d := refusingDouble(t, o)
	indexLists := func() int {
		return proxy.Count(func(r testservers.Request) bool { return r.List && r.Type == "index" })
	}

	data := randomBytes(31, 6<<20)
	estimateBackup(t, o, data) // into an empty repository: nothing to cache
	data[1<<20] ^= 1
	estimateBackup(t, o, data) // lists the blobs and caches them
	if _, bc, err := d.knownBlobs(ctx); err != nil || !bc.fromCache {
		t.Fatalf("after the second backup: cache used %v, %v", bc != nil && bc.fromCache, err)
	}
	data[4<<20] ^= 1
	proxy.Reset()
	s := estimateBackup(t, d, data)
	if s.Estimate == nil {
		t.Fatalf("third backup: no estimate (%v): the cached config or blob list was not used", s.EstimateErr)
	}
	if diff := s.Estimate.NewBytes + s.Estimate.TreeBytes - s.Summary.DataAdded; diff < -512 || diff > 512 {
		t.Fatalf("third backup: predicted %d new + %d tree, restic added %d", s.Estimate.NewBytes, s.Estimate.TreeBytes, s.Summary.DataAdded)
	}
	if n := indexLists(); n != 1 {
		t.Fatalf("third backup listed index/ %d times, want only restic backup's", n)
	}

	// Another host, with a restic cache of its own, backs up.
	other := o
	other.Env = append(os.Environ(), "RESTIC_PASSWORD=esesnap-test", "RESTIC_CACHE_DIR="+t.TempDir())
	run, err := StartBackup(ctx, other, BackupOptions{Filename: "other"})
	if err != nil {
		t.Fatal(err)
	}
	run.Writer().Write(randomBytes(32, 1<<20))
	if _, err := run.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	// Unseen here until restic runs here: the cache still stands.
	if _, bc, err := d.knownBlobs(ctx); err != nil || !bc.fromCache {
		t.Fatalf("before any restic run here: cache used %v, %v", bc != nil && bc.fromCache, err)
	}
	// A restic run here that loads the index brings the other host's
	// index file into restic's cache: the list is stale.
	if _, err := DataBlobs(ctx, o); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.knownBlobs(ctx); err == nil {
		t.Fatal("the cache was used although restic's cache has another host's index file")
	}
	estimateBackup(t, o, data) // lists again, and caches
	if _, bc, err := d.knownBlobs(ctx); err != nil || !bc.fromCache {
		t.Fatalf("after a backup that listed the blobs: cache used %v, %v", bc != nil && bc.fromCache, err)
	}
	// --no-cache: no restic cache to key the list by; restic lists.
	nc := d
	nc.Args = append(nc.Args, "--no-cache")
	if _, bc, err := nc.knownBlobs(ctx); err == nil || bc != nil {
		t.Fatalf("with --no-cache the cache was used (%v)", err)
	}
}

// TestResticCacheDir: restic's cache directory as restic finds it: its
// flags first, then RESTIC_CACHE_DIR, then the user cache directory of
// restic's environment.
func TestResticCacheDir(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	env := []string{"HOME=" + home, "XDG_CACHE_HOME=", "LocalAppData=" + filepath.Join(home, "AppData", "Local")}
	cases := []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"--no-cache"}, []string{"RESTIC_CACHE_DIR=/env"}, ""},
		{[]string{"--cache-dir", "/flag"}, []string{"RESTIC_CACHE_DIR=/env"}, "/flag"},
		{[]string{"--cache-dir=/flag"}, nil, "/flag"},
		{nil, []string{"RESTIC_CACHE_DIR=/env"}, "/env"},
	}
	for _, c := range cases {
		o := Options{Args: c.args, Env: append(append([]string{}, env...), c.env...)}
		if got := o.resticCacheDir(); got != c.want {
			t.Errorf("args %q env %q: %q, want %q", c.args, c.env, got, c.want)
		}
	}
	o := Options{Env: env}
	got := o.resticCacheDir()
	if filepath.Base(got) != "restic" || !filepath.IsAbs(got) || len(got) <= len(home) || got[:len(home)] != home {
		t.Errorf("default: %q, want restic's directory in the user cache directory under %s", got, home)
	}
}
