//go:build linux

package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/esesnap/esesnap/ese/synth"
)

// BenchmarkPeakRSS4GiB backs up a 4 GiB database (sparse: most pages are
// uninitialised, so generating it is instant, but every byte is still
// streamed, hashed and verified) with the real esesnap and esesnap-plugin
// binaries into a tar on /dev/null, and reports the peak resident memory
// (VmHWM) of each process. Target: both under 100 MiB, independent of the
// database size.
func BenchmarkPeakRSS4GiB(b *testing.B) {
	dir := b.TempDir()
	if _, err := synth.Generate(context.Background(), synth.Options{Dir: filepath.Join(dir, "ese"), PageSize: 8192, Pages: 4<<30/8192 - 2, UsedPages: 20000, Seed: 9}); err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(dir, "bin")
	build := exec.Command("go", "build", "-o", bin+"/", "github.com/esesnap/esesnap/host/cmd/esesnap", "github.com/esesnap/esesnap/plugin/cmd/esesnap-plugin")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	var hostPeak, pluginPeak float64
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(filepath.Join(bin, "esesnap"), "backup", "--source", filepath.Join(dir, "ese"), "--kind", "copy", "--tar", "/dev/null", "--progress", "never")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var h, p int64
	sample:
		for {
			select {
			case err := <-done:
				if err != nil {
					b.Fatalf("esesnap backup: %v", err)
				}
				break sample
			case <-time.After(20 * time.Millisecond):
				h = max(h, vmHWM(cmd.Process.Pid))
				for _, c := range children(cmd.Process.Pid) {
					p = max(p, vmHWM(c))
				}
			}
		}
		hostPeak += float64(h) / 1024
		pluginPeak += float64(p) / 1024
	}
	b.ReportMetric(hostPeak/float64(b.N), "host-peak-MiB")
	b.ReportMetric(pluginPeak/float64(b.N), "plugin-peak-MiB")
}

// vmHWM is a process's peak resident set in KiB, 0 if it is gone.
func vmHWM(pid int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// children lists the child processes of pid. Linux files a child under
// the thread that forked it, and Go forks from any thread, so every task
// is read.
func children(pid int) []int {
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}
