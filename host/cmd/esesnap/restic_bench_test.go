package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/esesnap/esesnap/ese/synth"
	"github.com/esesnap/esesnap/host/restic"
)

// BenchmarkResticOverhead measures, in one run on the same 1 GiB synthetic
// database with its logs: (a) `restic backup` of the raw files, (b)
// `esesnap backup --restic-repo` through a real plugin process (every page
// verified), and reports b/a (target <= 1.15), also without the estimate
// of restic's new data (--restic-estimate=false). For reference it also times
// restic reading the same backup set from stdin (c), since --stdin is what
// esesnap feeds, and reports b/c: esesnap's own overhead. It then changes 1% of the
// pages and reports what the second esesnap backup added to the repository
// as a percentage of the database size (target <= 3%), next to what plain
// restic adds for the same change of the raw files, and what a second
// --page-delta backup adds (its first backup, the base, is timed against
// plain restic too).
//
// The floor is the least any producer costs that hashes every byte with
// SHA-256 (as the host must, for the manifest) before restic reads it: the
// benchmark itself reads the finished tar from disk, hashes it and writes
// it into restic backup --stdin through the sink's stdin, with no plugin,
// no page verification and no tar building.
func BenchmarkResticOverhead(b *testing.B) {
	bin := resticBinary(b)
	dir := b.TempDir()
	set, err := synth.Generate(context.Background(), synth.Options{Dir: filepath.Join(dir, "ese"), PageSize: 8192, Pages: 1<<30/8192 - 2, Seed: 3})
	if err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(set.DBPath)
	env := append(os.Environ(), "RESTIC_PASSWORD=bench", "RESTIC_CACHE_DIR="+filepath.Join(dir, "cache"))
	restic := func(repo string, args ...string) (time.Duration, int64) {
		cmd := exec.Command(bin, append([]string{"-r", repo}, args...)...)
		cmd.Env = env
		settle()
		start := time.Now()
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("restic %v: %v\n%s", args, err, out)
		}
		var sum struct {
			DataAdded int64 `json:"data_added"`
		}
		if lines := bytes.Split(bytes.TrimSpace(out), []byte("\n")); len(lines) > 0 {
			json.Unmarshal(lines[len(lines)-1], &sum)
		}
		return time.Since(start), sum.DataAdded
	}
	deltaCache := filepath.Join(dir, "delta-cache")
	esesnap := func(repo string, extra ...string) (time.Duration, backupSummary) {
		cmd := cliCommand(append([]string{"backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv + "=1", "--restic", bin, "--restic-repo", repo,
			"--kind", "copy", "--source", set.Dir, "--json", "--progress", "never"}, extra...)...)
		cmd.Env = append(env, runMainEnv+"=1")
		settle()
		start := time.Now()
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("esesnap backup: %v", err)
		}
		var sum backupSummary
		if err := json.Unmarshal(out, &sum); err != nil || sum.Restic == nil {
			b.Fatalf("esesnap --json: %v\n%s", err, out)
		}
		return time.Since(start), sum
	}
	var ratio, noEstRatio, stdinRatio, floorRatio, deltaBaseRatio, added, predicted, deltaAdded, rawAdded float64
	for i := 0; i < b.N; i++ {
		rawRepo, snapRepo := filepath.Join(dir, "raw", strconv.Itoa(i)), filepath.Join(dir, "esesnap", strconv.Itoa(i))
		restic(rawRepo, "init")
		restic(snapRepo, "init")
		raw, _ := restic(rawRepo, "backup", "--json", set.Dir)
		viaPlugin, _ := esesnap(snapRepo)
		ratio += viaPlugin.Seconds() / raw.Seconds()
		noEstRepo := filepath.Join(dir, "noest", strconv.Itoa(i))
		restic(noEstRepo, "init")
		noEst, _ := esesnap(noEstRepo, "--restic-estimate=false")
		noEstRatio += noEst.Seconds() / raw.Seconds()
		deltaRepo := filepath.Join(dir, "delta", strconv.Itoa(i))
		restic(deltaRepo, "init")
		deltaBase, _ := esesnap(deltaRepo, "--page-delta", "--delta-cache", deltaCache)
		deltaBaseRatio += deltaBase.Seconds() / raw.Seconds()
		stdinRepo, tarFile := filepath.Join(dir, "stdin", strconv.Itoa(i)), filepath.Join(dir, "set"+strconv.Itoa(i)+".tar")
		restic(stdinRepo, "init")
		mk := cliCommand("backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--kind", "copy", "--source", set.Dir, "--tar", tarFile, "--progress", "never")
		mk.Env = append(env, runMainEnv+"=1")
		if out, err := mk.CombinedOutput(); err != nil {
			b.Fatalf("esesnap --tar: %v\n%s", err, out)
		}
		in, err := os.Open(tarFile)
		if err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(bin, "-r", stdinRepo, "backup", "--stdin", "--stdin-filename", "set.tar", "-q")
		cmd.Env, cmd.Stdin = env, in
		settle()
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("restic --stdin: %v\n%s", err, out)
		}
		stdinTime := time.Since(start)
		in.Close()
		floorRepo := filepath.Join(dir, "floor", strconv.Itoa(i))
		restic(floorRepo, "init")
		floor := hashPipeFloor(b, bin, floorRepo, env, tarFile)
		floorRatio += floor.Seconds() / raw.Seconds()
		os.Remove(tarFile)
		stdinRatio += viaPlugin.Seconds() / stdinTime.Seconds()
		b.ReportMetric(stdinTime.Seconds(), "restic-stdin-s")
		b.ReportMetric(raw.Seconds(), "restic-raw-s")
		b.ReportMetric(viaPlugin.Seconds(), "esesnap-restic-s")
		if _, err := synth.TouchPages(set.DBPath, 0.01, int64(i+1)); err != nil {
			b.Fatal(err)
		}
		_, second := esesnap(snapRepo)
		added += 100 * float64(second.Restic.DataAdded) / float64(st.Size())
		if e := second.Restic.Estimate; e != nil {
			predicted += 100 * float64(e.NewBytes+e.TreeBytes) / float64(st.Size())
		}
		_, deltaSecond := esesnap(deltaRepo, "--page-delta", "--delta-cache", deltaCache)
		deltaAdded += 100 * float64(deltaSecond.Restic.DataAdded) / float64(st.Size())
		_, rawSecond := restic(rawRepo, "backup", "--json", set.Dir)
		rawAdded += 100 * float64(rawSecond) / float64(st.Size())
	}
	b.ReportMetric(ratio/float64(b.N), "esesnap/restic")
	b.ReportMetric(noEstRatio/float64(b.N), "no-estimate/restic")
	b.ReportMetric(stdinRatio/float64(b.N), "esesnap/restic-stdin")
	b.ReportMetric(floorRatio/float64(b.N), "sha256-pipe-floor/restic")
	b.ReportMetric(added/float64(b.N), "%added-after-1%-pages")
	b.ReportMetric(rawAdded/float64(b.N), "raw-restic-%added-after-1%-pages")
	b.ReportMetric(predicted/float64(b.N), "%predicted-after-1%-pages")
	b.ReportMetric(deltaBaseRatio/float64(b.N), "page-delta-base/restic")
	b.ReportMetric(deltaAdded/float64(b.N), "page-delta-%added-after-1%-pages")
}

// hashPipeFloor times restic backup --stdin fed by this process, which
// reads tarFile in 1 MiB blocks and SHA-256-hashes each before writing it.
func hashPipeFloor(b *testing.B, bin, repo string, env []string, tarFile string) time.Duration {
	b.Helper()
	in, err := os.Open(tarFile)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	ctx := context.Background()
	o := restic.Options{Binary: bin, Repo: repo, Env: env}
	settle()
	start := time.Now()
	run, err := restic.StartBackup(ctx, o, restic.BackupOptions{Filename: "set.tar"})
	if err != nil {
		b.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyBuffer(run.Writer(), io.TeeReader(in, h), make([]byte, 1<<20)); err != nil {
		run.Stop()
		b.Fatal(err)
	}
	if _, err := run.Finish(ctx); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	b.Logf("floor: %v, sha256 %x", took, h.Sum(nil)[:8])
	return took
}

// BenchmarkResticRestore measures, in one run on the same 1 GiB synthetic
// set: `restic restore` of a snapshot of the raw files, against `esesnap
// restore --restic-repo` of an esesnap snapshot of it, which dumps the
// set, checks every hash, page and log, and stages the files (synced)
// through the plugin's Restore; it reports the ratio. restic does not sync
// what it restores, so each time includes a sync of the file systems
// afterwards: a restore is done when its files are on disk.
func BenchmarkResticRestore(b *testing.B) {
	bin := resticBinary(b)
	dir := b.TempDir()
	set, err := synth.Generate(context.Background(), synth.Options{Dir: filepath.Join(dir, "ese"), PageSize: 8192, Pages: 1<<30/8192 - 2, Seed: 5})
	if err != nil {
		b.Fatal(err)
	}
	env := append(os.Environ(), "RESTIC_PASSWORD=bench", "RESTIC_CACHE_DIR="+filepath.Join(dir, "cache"))
	run := func(cmd *exec.Cmd) time.Duration {
		b.Helper()
		settle()
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", cmd.Args, err, out)
		}
		settle()
		return time.Since(start)
	}
	resticCmd := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		return cmd
	}
	esesnapCmd := func(args ...string) *exec.Cmd {
		cmd := cliCommand(append(args, "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--restic", bin)...)
		cmd.Env = append(env, runMainEnv+"=1")
		return cmd
	}
	rawRepo, snapRepo := filepath.Join(dir, "raw"), filepath.Join(dir, "esesnap")
	run(resticCmd("-r", rawRepo, "init"))
	run(resticCmd("-r", snapRepo, "init"))
	run(resticCmd("-r", rawRepo, "backup", set.Dir))
	run(esesnapCmd("backup", "--restic-repo", snapRepo, "--kind", "full", "--source", set.Dir, "--progress", "never"))
	var ratio float64
	for i := 0; i < b.N; i++ {
		raw := run(resticCmd("-r", rawRepo, "restore", "latest", "--target", filepath.Join(dir, "raw-out", strconv.Itoa(i))))
		ours := run(esesnapCmd("restore", "--restic-repo", snapRepo, "--to", filepath.Join(dir, "esesnap-out", strconv.Itoa(i))))
		ratio += ours.Seconds() / raw.Seconds()
		b.ReportMetric(raw.Seconds(), "restic-restore-s")
		b.ReportMetric(ours.Seconds(), "esesnap-restore-s")
		os.RemoveAll(filepath.Join(dir, "raw-out", strconv.Itoa(i)))
		os.RemoveAll(filepath.Join(dir, "esesnap-out", strconv.Itoa(i)))
	}
	b.ReportMetric(ratio/float64(b.N), "esesnap-restore/restic-restore")
}
