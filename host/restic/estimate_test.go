package restic

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/esesnap/esesnap/backupset"
	"github.com/restic/chunker"
)

// testPol is a fixed irreducible polynomial, so chunk boundaries are the
// same on every run.
const testPol = chunker.Pol(0x3DA3358B4DC173)

// randomBytes returns n pseudo-random bytes that are the same for a seed.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// chunkIDs cuts data as restic would and returns the chunk ids.
func chunkIDs(t *testing.T, data []byte) []BlobID {
	t.Helper()
	c := chunker.New(bytes.NewReader(data), testPol)
	buf := make([]byte, chunker.MaxSize)
	var ids []BlobID
	for {
		ch, err := c.Next(buf)
		if err != nil {
			return ids
		}
		ids = append(ids, sha256.Sum256(ch.Data))
	}
}

func TestEstimator(t *testing.T) {
	a, b := randomBytes(1, 6<<20), randomBytes(2, 3<<20)
	zeros := make([]byte, 4<<20)
	tests := []struct {
		name      string
		parts     map[string][]byte // written in order of partOrder
		partOrder []string
		known     func() BlobSet
		// wantNew is the expected new bytes; -1 means "every byte".
		wantNew      int64
		wantNewParts map[string]bool // parts that must (true) or must not (false) have new bytes
		maxNew       int64           // when not 0, NewBytes must stay below it
	}{
		{
			name: "empty repository: everything is new", partOrder: []string{"db", "log"},
			parts: map[string][]byte{"db": a, "log": b}, known: func() BlobSet { return BlobSet{} },
			wantNew: -1, wantNewParts: map[string]bool{"db": true, "log": true},
		},
		{
			name: "repository holds the database's chunks", partOrder: []string{"db", "log"},
			parts: map[string][]byte{"db": a, "log": b},
			known: func() BlobSet {
				s := BlobSet{}
				ids := chunkIDs(t, a)
				for _, id := range ids[:len(ids)-1] { // a's last chunk runs on into "log" in the stream
					s[id] = struct{}{}
				}
				return s
			},
			// Only the chunk that spans both parts is new in "db".
			wantNewParts: map[string]bool{"db": true, "log": true},
			maxNew:       chunker.MaxSize + 3<<20,
		},
		{
			name: "repeated zero runs are stored once", partOrder: []string{"zeros"},
			parts: map[string][]byte{"zeros": zeros}, known: func() BlobSet { return BlobSet{} },
			wantNew: chunker.MinSize, wantNewParts: map[string]bool{"zeros": true},
		},
	}
	for _, tt := range tests {
		for _, local := range []bool{false, true} {
			known := tt.known()
			if local && len(known) > 0 {
				continue // a local estimator is for empty repositories
			}
			t.Run(fmt.Sprintf("%s/local=%v", tt.name, local), func(t *testing.T) {
				e := newEstimator(testPol, local)
				var total int64
				for _, name := range tt.partOrder {
					e.Mark(name)
					data := tt.parts[name]
					for off := 0; off < len(data); off += 100000 { // many small writes, as the tar writer makes
						if _, err := e.Write(data[off:min(off+100000, len(data))]); err != nil {
							t.Fatal(err)
						}
					}
					total += int64(len(data))
				}
				if err := e.Close(); err != nil {
					t.Fatal(err)
				}
				est := e.Result(known)
				if est.Bytes != total {
					t.Fatalf("Bytes = %d, want %d", est.Bytes, total)
				}
				want := tt.wantNew
				if want == -1 {
					want = total
				}
				if tt.wantNew != 0 && est.NewBytes != want {
					t.Fatalf("NewBytes = %d, want %d (%+v)", est.NewBytes, want, est)
				}
				if tt.maxNew != 0 && est.NewBytes >= tt.maxNew {
					t.Fatalf("NewBytes = %d, want below %d", est.NewBytes, tt.maxNew)
				}
				var sum int64
				for _, p := range est.Parts {
					sum += p.NewBytes
					if must, ok := tt.wantNewParts[p.Name]; ok && must != (p.NewBytes > 0) {
						t.Errorf("part %s: %d new bytes, want new: %v", p.Name, p.NewBytes, must)
					} else if !ok && p.NewBytes > 0 {
						t.Errorf("part %s: %d new bytes, want none", p.Name, p.NewBytes)
					}
				}
				if sum != est.NewBytes {
					t.Fatalf("parts add up to %d new bytes, NewBytes = %d", sum, est.NewBytes)
				}
				if est.NewBytes > est.Bytes || est.NewChunks > est.Chunks {
					t.Fatalf("more new than there is: %+v", est)
				}
			})
		}
	}
}

// TestEstimateMatchesResticDataAdded backs the same set up twice through
// the real restic, the second time with a few bytes changed in the
// database, and checks that the prediction equals what restic reports as
// data_added (apart from the tree blob, which is estimated).
func TestEstimateMatchesResticDataAdded(t *testing.T) {
	o := testRepo(t)
	ctx := context.Background()
	db, logs := randomBytes(3, 20<<20), randomBytes(4, 2<<20)
	backup := func(db []byte) *Sink {
		t.Helper()
		s, err := NewSink(ctx, o, BackupOptions{Filename: "set.tar"}, WithEstimate())
		if err != nil {
			t.Fatal(err)
		}
		mod := time.Unix(1700000000, 0)
		for _, f := range []struct {
			name string
			data []byte
		}{{"db.edb", db}, {"edb00001.log", logs}} {
			w, err := s.Create(backupset.Entry{Name: f.name, Size: int64(len(f.data)), ModTime: mod})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(f.data); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Commit(ctx, []byte(`{"test":true}`), mod); err != nil {
			t.Fatal(err)
		}
		return s
	}
	first := backup(db)
	changed := bytes.Clone(db)
	changed[5<<20] ^= 1
	changed[15<<20] ^= 1
	second := backup(changed)
	for i, s := range []*Sink{first, second} {
		e, added := s.Estimate, s.Summary.DataAdded
		if e == nil {
			t.Fatalf("backup %d: no estimate", i+1)
		}
		predicted := e.NewBytes + e.TreeBytes
		if diff := predicted - added; diff < -512 || diff > 512 {
			t.Errorf("backup %d: predicted %d (%d data + %d tree), restic added %d", i+1, predicted, e.NewBytes, e.TreeBytes, added)
		}
		t.Logf("backup %d: predicted %d (%d of %d chunks new), restic data_added %d", i+1, predicted, e.NewChunks, e.Chunks, added)
	}
	if e := second.Estimate; e.NewBytes == 0 || e.NewBytes > 3*chunker.MaxSize {
		t.Errorf("two flipped bits: %d new bytes predicted", e.NewBytes)
	} else {
		for _, p := range e.Parts {
			if p.Name == "edb00001.log" && p.NewBytes > 0 {
				t.Errorf("the unchanged log is predicted %d new bytes", p.NewBytes)
			}
		}
	}
}

// TestConfigCache: the first estimating backup caches the repository's
// config; a cached config that is wrong for the repository (here: another
// polynomial) gives an implausible estimate, which is dropped along with
// the cache, and the next backup reads the config again.
func TestConfigCache(t *testing.T) {
	o := testRepo(t)
	data := randomBytes(8, 12<<20)
	backup := func() *Sink { t.Helper(); return estimateBackup(t, o, data) }
	if backup().Estimate == nil {
		t.Fatal("no estimate")
	}
	cfg, ok := o.CachedConfig()
	if !ok {
		t.Fatal("the config was not cached")
	}
	wrong := cfg
	for p := cfg.ChunkerPolynomial + 2; ; p += 2 {
		if p.Irreducible() {
			wrong.ChunkerPolynomial = p
			break
		}
	}
	o.cacheConfig(wrong, o.configFileSum())
	if s := backup(); s.Estimate != nil {
		t.Fatalf("estimate with a wrong polynomial kept: %+v, restic added %d", s.Estimate, s.Summary.DataAdded)
	}
	if _, ok := o.CachedConfig(); ok {
		t.Fatal("the wrong config is still cached")
	}
	s := backup()
	if s.Estimate == nil || !plausible(s.Estimate, s.Summary) {
		t.Fatalf("estimate after the config was read again: %+v", s.Estimate)
	}
	if c, ok := o.CachedConfig(); !ok || c != cfg {
		t.Fatalf("cached again: %+v, want %+v", c, cfg)
	}
}

func TestRepositoryLocation(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		repo, want string
	}{
		{"repo", filepath.Join(wd, "repo")},
		{"local:repo", filepath.Join(wd, "repo")},
		{"/srv/restic", "/srv/restic"},
		{"sftp:host:/srv/restic", "sftp:host:/srv/restic"},
		{"s3:s3.amazonaws.com/bucket", "s3:s3.amazonaws.com/bucket"},
	}
	for _, tt := range tests {
		if got := (Options{Repo: tt.repo}).Location(); got != tt.want {
			t.Errorf("location of %q = %q, want %q", tt.repo, got, tt.want)
		}
	}
	env := Options{Env: []string{"RESTIC_REPOSITORY=repo", "HOME=/x"}}
	if got, want := env.Location(), "RESTIC_REPOSITORY="+filepath.Join(wd, "repo"); got != want {
		t.Errorf("location from the environment = %q, want %q", got, want)
	}
}

// TestConfigCacheNoticesAnotherLocalRepository: a local repository that
// was removed and initialised again at the same path has a new config
// file, so its cached config is not used, with no restic call needed to
// tell.
func TestConfigCacheNoticesAnotherLocalRepository(t *testing.T) {
	o := testRepo(t)
	ctx := context.Background()
	cfg, err := RepoConfig(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	o.cacheConfig(cfg, o.configFileSum())
	if c, ok := o.CachedConfig(); !ok || c != cfg {
		t.Fatalf("cached config = %+v, %v; want %+v", c, ok, cfg)
	}
	if err := os.RemoveAll(o.Repo); err != nil {
		t.Fatal(err)
	}
	if err := Init(ctx, o); err != nil {
		t.Fatal(err)
	}
	if c, ok := o.CachedConfig(); ok {
		t.Fatalf("config of the removed repository %s still used: %+v", c.ID, c)
	}
}

// TestKnownBlobs: a local repository without index files knows no blobs,
// which needs no restic run (the binary here cannot run); once a backup
// wrote an index, restic is asked, and its answer holds the backup's blobs.
func TestKnownBlobs(t *testing.T) {
	o := testRepo(t)
	ctx := context.Background()
	broken := o
	broken.Binary = filepath.Join(t.TempDir(), "no-restic-here")
	if set, _, err := broken.knownBlobs(ctx); err != nil || len(set) != 0 {
		t.Fatalf("empty local repository: %d blobs, %v; want none and no restic run", len(set), err)
	}
	remote := broken
	remote.Repo = "rest:http://127.0.0.1:1/"
	if _, _, err := remote.knownBlobs(ctx); err == nil {
		t.Fatal("a backend URL was taken for an empty local repository")
	}
	run, err := StartBackup(ctx, o, BackupOptions{Filename: "set.tar"})
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(5, 3<<20)
	if _, err := run.Writer().Write(data); err != nil {
		t.Fatal(err)
	}
	if _, err := run.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := broken.knownBlobs(ctx); err == nil {
		t.Fatal("a repository with an index was taken as empty")
	}
	set, _, err := o.knownBlobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := RepoConfig(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	c := chunker.New(bytes.NewReader(data), cfg.ChunkerPolynomial)
	for {
		ch, err := c.Next(make([]byte, chunker.MaxSize))
		if err != nil {
			break
		}
		id := BlobID(sha256.Sum256(ch.Data))
		if _, ok := set[id]; !ok {
			t.Fatalf("blob %x of the backup is not listed (%d listed)", id[:8], len(set))
		}
	}
}

// refusingDouble writes a test double of restic: a wrapper that refuses
// `cat` and `list` and runs the real restic for everything else.
func refusingDouble(t *testing.T, o Options) Options {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the test double is a shell script")
	}
	double := filepath.Join(t.TempDir(), "restic-refusing-estimate")
	script := "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in cat|list) echo \"test double: restic $a refused\" >&2; exit 1;; esac; done\nexec \"" + o.Binary + "\" \"$@\"\n"
	if err := os.WriteFile(double, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	d := o
	d.Binary = double
	return d
}

// estimateBackup streams data as one file through an estimating sink.
func estimateBackup(t *testing.T, o Options, data []byte) *Sink {
	t.Helper()
	ctx := context.Background()
	s, err := NewSink(ctx, o, BackupOptions{Filename: "set.tar"}, WithEstimate())
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Create(backupset.Entry{Name: "db.edb", Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := s.Commit(ctx, []byte("{}"), time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBlobCache: the second backup into a local repository lists its
// blobs and caches them; after it, the cache holds that backup's chunks
// too, so a third backup needs neither restic cat nor restic list (a
// test double refuses both) and still predicts restic's data_added. A new
// index file from elsewhere, or a damaged cache file, makes the cache
// unusable, and restic is asked again.
func TestBlobCache(t *testing.T) {
	o := testRepo(t)
	d := refusingDouble(t, o)
	data := randomBytes(21, 6<<20)
	estimateBackup(t, o, data)
	data[1<<20] ^= 1
	estimateBackup(t, o, data)
	data[4<<20] ^= 1
	s := estimateBackup(t, d, data)
	if s.Estimate == nil {
		t.Fatalf("third backup: no estimate (%v): the cached config or blob list was not used", s.EstimateErr)
	}
	if diff := s.Estimate.NewBytes + s.Estimate.TreeBytes - s.Summary.DataAdded; diff < -512 || diff > 512 {
		t.Fatalf("third backup: predicted %d new + %d tree, restic added %d", s.Estimate.NewBytes, s.Estimate.TreeBytes, s.Summary.DataAdded)
	}
	ctx := context.Background()
	if _, bc, err := d.knownBlobs(ctx); err != nil || !bc.fromCache {
		t.Fatalf("after the third backup: cache used %v, %v", bc != nil && bc.fromCache, err)
	}
	path := o.cachePath(".blobs")
	cached, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	damaged := slices.Clone(cached)
	damaged[len(damaged)/2] ^= 0x40
	if err := os.WriteFile(path, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.knownBlobs(ctx); err == nil {
		t.Fatal("a damaged cache file was used")
	}
	if err := os.WriteFile(path, cached, 0o600); err != nil {
		t.Fatal(err)
	}
	// Another writer: restic itself, backing up new data between backups.
	other := func(seed uint64) {
		t.Helper()
		run, err := StartBackup(ctx, o, BackupOptions{Filename: "other"})
		if err != nil {
			t.Fatal(err)
		}
		run.Writer().Write(randomBytes(seed, 1<<20))
		if _, err := run.Finish(ctx); err != nil {
			t.Fatal(err)
		}
	}
	other(22)
	if _, _, err := d.knownBlobs(ctx); err == nil {
		t.Fatal("the cache was used although the repository has a new index file")
	}
	estimateBackup(t, o, data) // lists the blobs again and caches them
	if _, bc, err := d.knownBlobs(ctx); err != nil || !bc.fromCache {
		t.Fatalf("after a backup that listed the blobs: cache used %v, %v", bc != nil && bc.fromCache, err)
	}
	// ... and during a backup: its index must not pass for this backup's.
	s, err = NewSink(ctx, o, BackupOptions{Filename: "set.tar"}, WithEstimate())
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Create(backupset.Entry{Name: "db.edb", Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	other(23)
	if err := s.Commit(ctx, []byte("{}"), time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.knownBlobs(ctx); err == nil {
		t.Fatal("the cache was used after another writer's backup ran during esesnap's")
	}
}

// TestEstimateFailureKeepsBackup: when the estimate cannot be prepared
// (here restic is a test double, a wrapper that refuses `cat` and `list`
// and runs the real restic for everything else), the stream still becomes
// a snapshot, and the sink says why there is no estimate.
func TestEstimateFailureKeepsBackup(t *testing.T) {
	o := testRepo(t)
	s := estimateBackup(t, refusingDouble(t, o), randomBytes(11, 2<<20))
	if s.Estimate != nil || s.EstimateErr == nil || !strings.Contains(s.EstimateErr.Error(), "restic cat config") || !strings.Contains(s.EstimateErr.Error(), "refused") {
		t.Fatalf("estimate %+v, error %v; want none, and the error of restic cat config", s.Estimate, s.EstimateErr)
	}
	snaps, err := Snapshots(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 1 || snaps[0].ID != s.Summary.SnapshotID {
		t.Fatalf("snapshots %+v, want only %s", snaps, s.Summary.SnapshotID)
	}
}
