package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/plugin"
)

// TestVersion builds the real esesnap and esesnap-plugin binaries side by
// side (the plugin with a version set at link time) and checks that
// `esesnap version --json` reports exactly the build information of the
// binary (as `go version -m` reads it), the platform, and the plugin's
// name, version and protocol version from its Info; that --version prints
// what `version` prints; and that a missing plugin is reported without
// failing the command.
func TestVersion(t *testing.T) {
	bin := t.TempDir()
	const pluginVersion = "9.8.7-test"
	for _, b := range [][]string{
		{"build", "-buildvcs=auto", "-o", bin + "/", "github.com/esesnap/esesnap/host/cmd/esesnap"},
		{"build", "-o", bin + "/", "-ldflags", "-X main.version=" + pluginVersion, "github.com/esesnap/esesnap/plugin/cmd/esesnap-plugin"},
	} {
		if out, err := exec.Command("go", b...).CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", b, err, out)
		}
	}
	exe := filepath.Join(bin, "esesnap")
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	// What the Go toolchain says the binary was built from.
	out, err := exec.Command("go", "version", "-m", exe).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	want := versionJSON{Version: "devel", OS: runtime.GOOS, Arch: runtime.GOARCH}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, exe+": "):
			want.GoVersion = strings.TrimPrefix(line, exe+": ")
		case len(f) >= 3 && f[0] == "mod" && f[2] != "(devel)":
			want.Version = f[2]
		case len(f) == 2 && f[0] == "build":
			k, v, _ := strings.Cut(f[1], "=")
			switch k {
			case "vcs.revision":
				want.Commit = v
			case "vcs.time":
				want.CommitTime = v
			case "vcs.modified":
				want.Modified = v == "true"
			}
		}
	}
	// In a clone (.git a directory: go build does not stamp git worktrees)
	// the commit is the checked-out one.
	if st, err := os.Stat(filepath.Join("..", "..", "..", ".git")); err == nil && st.IsDir() {
		head, err := exec.Command("git", "rev-parse", "HEAD").Output()
		if err != nil {
			t.Fatalf("git rev-parse HEAD (git is needed to check the commit esesnap reports): %v", err)
		}
		if want.Commit != strings.TrimSpace(string(head)) {
			t.Fatalf("go version -m says commit %q, git %q", want.Commit, head)
		}
	}

	run := func(args ...string) (string, string) {
		t.Helper()
		cmd := exec.Command(exe, args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("esesnap %v: %v\n%s%s", args, err, out, stderr.String())
		}
		return string(out), stderr.String()
	}
	stdout, _ := run("version", "--json")
	var got versionJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("version --json: %v\n%s", err, stdout)
	}
	want.Plugin = pluginJSON{Path: filepath.Join(bin, "esesnap-plugin"), Name: "esesnap-ese", Version: pluginVersion, ProtocolVersion: plugin.ProtocolVersionV1}
	if runtime.GOOS == "windows" {
		want.Plugin.Path += ".exe"
	}
	if got != want {
		t.Fatalf("version --json:\n got %+v\nwant %+v", got, want)
	}

	text, _ := run("version")
	for _, s := range []string{"esesnap " + want.Version, want.GoVersion + " " + runtime.GOOS + "/" + runtime.GOARCH, "esesnap-ese " + pluginVersion, "protocol version 1", want.Commit} {
		if !strings.Contains(text, s) {
			t.Errorf("version does not say %q:\n%s", s, text)
		}
	}
	if flag, _ := run("--version"); flag != text {
		t.Errorf("--version prints\n%s\nversion prints\n%s", flag, text)
	}

	// Without a plugin: reported, exit 0.
	missing := filepath.Join(t.TempDir(), "no-such-plugin")
	stdout, _ = run("version", "--json", "--plugin", missing)
	got = versionJSON{}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || got.Plugin.Path != missing || got.Plugin.Name != "" || !strings.Contains(got.Plugin.Error, "not found") || got.Version != want.Version {
		t.Fatalf("version --json without a plugin: %v\n%s", err, stdout)
	}
	if text, _ := run("version", "--plugin", missing); !strings.Contains(text, "plugin:   none usable at "+missing) {
		t.Fatalf("version without a plugin:\n%s", text)
	}
	// A program that is no plugin: reported, exit 0, and nothing but the
	// report (no log lines of the failed start).
	if runtime.GOOS != "windows" {
		notPlugin := filepath.Join(t.TempDir(), "not-a-plugin")
		if err := os.WriteFile(notPlugin, []byte("#!/bin/sh\necho hello\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		text, stderr := run("version", "--plugin", notPlugin)
		if !strings.Contains(text, "plugin:   none usable at "+notPlugin+": plugin handshake failed") || stderr != "" {
			t.Fatalf("version with a program that is no plugin:\n%s\nstderr:\n%s", text, stderr)
		}
	}
}
