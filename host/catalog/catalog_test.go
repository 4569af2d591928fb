package catalog

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/esesnap/esesnap/protocol"
)

var t0 = time.Date(2026, 11, 2, 22, 0, 0, 0, time.UTC)

// bk is a backup of instance "dc1:/NTDS (sig)" in chain "c1" at hour h.
func bk(id string, h int, kind protocol.Kind, low, high uint32) Backup {
	return Backup{ID: id, Time: t0.Add(time.Duration(h) * time.Hour), Host: "dc1", Source: "/NTDS", Instance: "sig",
		Kind: kind, Chain: "c1", GenLow: low, GenHigh: high}
}

func TestPoints(t *testing.T) {
	full, inc, diff, cp := protocol.KindFull, protocol.KindIncremental, protocol.KindDifferential, protocol.KindCopy
	tests := []struct {
		name    string
		backups []Backup
		id      string
		needs   []string
		problem string
	}{
		{"full alone", []Backup{bk("f", 0, full, 5, 9)}, "f", []string{"f"}, ""},
		{"incrementals", []Backup{bk("f", 0, full, 5, 9), bk("i1", 1, inc, 9, 12), bk("i2", 2, inc, 12, 15)}, "i2", []string{"f", "i1", "i2"}, ""},
		{"gap", []Backup{bk("f", 0, full, 5, 9), bk("i1", 1, inc, 11, 12)}, "i1", []string{"f", "i1"}, "log generation(s) 0xa are in no backup"},
		{"two missing ranges", []Backup{bk("f", 0, full, 1, 2), bk("i1", 1, inc, 4, 5), bk("i2", 2, inc, 8, 9)}, "i2", []string{"f", "i1", "i2"}, "0x3, 0x6-0x7"},
		{"differential", []Backup{bk("f", 0, full, 5, 9), bk("d1", 1, diff, 5, 14)}, "d1", []string{"f", "d1"}, ""},
		{"a later full restarts", []Backup{bk("f", 0, full, 5, 9), bk("i1", 1, inc, 20, 21), bk("f2", 2, full, 30, 31), bk("i2", 3, inc, 31, 33)}, "i2", []string{"f2", "i2"}, ""},
		{"no full", []Backup{bk("i1", 1, inc, 9, 12)}, "i1", []string{"i1"}, "holds no full backup before it"},
		{"copy starts a chain", []Backup{bk("c", 0, cp, 5, 9)}, "c", []string{"c"}, ""},
		{"unreadable member", func() []Backup {
			b := bk("i1", 1, inc, 9, 12)
			b.Unknown = errors.New("restic cat failed")
			return []Backup{bk("f", 0, full, 5, 9), b, bk("i2", 2, inc, 12, 13)}
		}(), "i2", []string{"f", "i1", "i2"}, "the details of i1 could not be read"},
		{"delta base present", func() []Backup {
			f := bk("f2", 2, full, 5, 9)
			f.Bases = []string{"f"}
			return []Backup{bk("f", 0, full, 1, 2), f}
		}(), "f2", []string{"f2", "f"}, ""},
		{"delta base forgotten", func() []Backup {
			f := bk("f2", 2, full, 5, 9)
			f.Bases = []string{"gone"}
			return []Backup{f}
		}(), "f2", []string{"f2", "gone"}, "base gone of the page deltas of f2 is not in the repository"},
		{"command-mode incremental", func() []Backup {
			b := bk("x", 0, inc, 5, 9)
			b.Chain = ""
			return []Backup{b}
		}(), "x", []string{"x"}, "restic command mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.backups)
			p, ok := c.Point(tt.id)
			if !ok {
				t.Fatalf("no point %s", tt.id)
			}
			if !slices.Equal(p.Needs(), tt.needs) {
				t.Errorf("needs %v, want %v", p.Needs(), tt.needs)
			}
			if (tt.problem == "") != p.Restorable() || !strings.Contains(p.Problem, tt.problem) {
				t.Errorf("problem %q, want one containing %q", p.Problem, tt.problem)
			}
		})
	}
}

// TestSelectByInstance: two hosts back up a directory of the same name,
// and one host holds a second instance at the same path (new log stream);
// latest is ambiguous until narrowed, and narrowing picks the newest
// restorable point of that instance only.
func TestSelectByInstance(t *testing.T) {
	full, inc := protocol.KindFull, protocol.KindIncremental
	a := []Backup{bk("a-f", 0, full, 5, 9), bk("a-i", 5, inc, 9, 12)}
	b := []Backup{bk("b-f", 1, full, 1, 3), bk("b-i", 6, inc, 3, 4)}
	for i := range b {
		b[i].Host, b[i].Chain = "dc2", "c2"
	}
	n := []Backup{bk("n-f", 2, full, 1, 2), bk("n-i", 7, inc, 5, 6)} // a gap: n-i does not restore
	for i := range n {
		n[i].Instance, n[i].Chain = "other", "c3"
	}
	c := New(slices.Concat(a, b, n))
	if got := len(c.Instances()); got != 3 {
		t.Fatalf("%d instances, want 3", got)
	}
	_, err := c.Select(Filter{}, "latest", time.Time{})
	if !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), "dc1:/NTDS (instance sig)") || !strings.Contains(err.Error(), "dc2:/NTDS") {
		t.Fatalf("latest of everything: %v, want ErrAmbiguous naming the candidates", err)
	}
	for _, tt := range []struct {
		f    Filter
		at   time.Time
		want string
		skip int
	}{
		{Filter{Host: "DC2"}, time.Time{}, "b-i", 0},
		{Filter{Host: "dc1", Instance: "si"}, time.Time{}, "a-i", 0},
		{Filter{Host: "dc1", Instance: "si"}, t0.Add(4 * time.Hour), "a-f", 0},
		{Filter{Instance: "oth"}, time.Time{}, "n-f", 1},
	} {
		ch, err := c.Select(tt.f, "", tt.at)
		if err != nil || ch.Point.Backup.ID != tt.want || len(ch.Skipped) != tt.skip {
			t.Errorf("Select(%v, at %v) = %s skipping %d, %v; want %s skipping %d", tt.f, tt.at, ch.Point.Backup.ID, len(ch.Skipped), err, tt.want, tt.skip)
		}
	}
	for _, tt := range []struct {
		f    Filter
		id   string
		at   time.Time
		is   error
		text string
	}{
		{Filter{Host: "dc9"}, "", time.Time{}, ErrNotFound, "it holds backups of 3 instance(s)"},
		{Filter{Host: "dc1", Instance: "si"}, "", t0.Add(-time.Hour), ErrNotFound, "no restorable backup"},
		{Filter{}, "zz", time.Time{}, ErrNotFound, `no esesnap backup "zz"`},
		{Filter{}, "a-", time.Time{}, ErrAmbiguous, "matches 2 backups"},
	} {
		if _, err := c.Select(tt.f, tt.id, tt.at); !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("Select(%v, %q, %v): %v, want %v saying %q", tt.f, tt.id, tt.at, err, tt.is, tt.text)
		}
	}
	if ch, err := c.Select(Filter{}, "b-i", time.Time{}); err != nil || ch.Point.Backup.ID != "b-i" || !slices.Equal(ch.Point.Needs(), []string{"b-f", "b-i"}) {
		t.Fatalf("Select by id: %+v, %v", ch, err)
	}
}

func TestPlanRefusesEmptyPolicy(t *testing.T) {
	if _, err := New(nil).Plan(Policy{}, Filter{}); !errors.Is(err, ErrEmptyPolicy) {
		t.Fatalf("empty policy: %v", err)
	}
}

// schedule simulates an instance backed up every few hours for weeks with
// a random mix of kinds, as an ESE instance produces them: a full holds the
// logs from its checkpoint to the current generation, an incremental those
// from the last full or incremental's current log on (the current log is
// copied again, it grew), a differential those from the full's first on.
// Some backups are lost afterwards (forgotten by hand, a damaged snapshot),
// and some use page deltas against an earlier full.
func schedule(r *rand.Rand, host string, chainBase int) []Backup {
	var out []Backup
	gen := uint32(1 + r.IntN(50))
	var fullLow, lastHigh uint32
	var fulls []string
	chain := ""
	at := t0
	n := 20 + r.IntN(80)
	for i := range n {
		at = at.Add(time.Duration(1+r.IntN(30)) * time.Hour)
		gen += uint32(1 + r.IntN(4))
		b := Backup{ID: fmt.Sprintf("%s-%03d", host, i), Time: at, Host: host, Source: "/NTDS", Instance: "sig-" + host}
		switch k := r.IntN(10); {
		case chain == "" || k < 2:
			chain = fmt.Sprintf("%s-chain%d", host, chainBase+i)
			b.Kind, b.GenLow, b.GenHigh = protocol.KindFull, gen-1, gen
			fullLow = gen - 1
			if len(fulls) > 0 && r.IntN(3) == 0 {
				b.Bases = []string{fulls[r.IntN(len(fulls))]}
			}
			fulls = append(fulls, b.ID)
		case k < 7:
			b.Kind, b.GenLow, b.GenHigh = protocol.KindIncremental, lastHigh, gen
		default:
			b.Kind, b.GenLow, b.GenHigh = protocol.KindDifferential, fullLow, gen
		}
		if b.Kind != protocol.KindDifferential {
			lastHigh = gen
		}
		b.Chain = chain
		out = append(out, b)
	}
	// Lose a few.
	for range r.IntN(4) {
		i := r.IntN(len(out))
		out = slices.Delete(out, i, i+1)
	}
	return out
}

// restores is an independent model of what `esesnap restore` does with a
// repository: it takes the kept backups of the point's chain up to the
// point from the last full on, and needs every log generation from the
// full's first to the point's last and every page-delta base.
func restores(kept map[string]Backup, point Backup) bool {
	var members []Backup
	for _, b := range kept {
		if b.Key() == point.Key() && b.Chain == point.Chain && !b.Time.After(point.Time) {
			members = append(members, b)
		}
	}
	slices.SortFunc(members, func(a, b Backup) int { return a.Time.Compare(b.Time) })
	start := -1
	for i, m := range members {
		if m.Kind == protocol.KindFull || m.Kind == protocol.KindCopy {
			start = i
		}
	}
	if start < 0 {
		return false
	}
	members = members[start:]
	have := map[uint32]bool{}
	for _, m := range members {
		for g := m.GenLow; g <= m.GenHigh && m.GenHigh != 0; g++ {
			have[g] = true
		}
		for _, base := range m.Bases {
			if _, ok := kept[base]; !ok {
				return false
			}
		}
	}
	for g := members[0].GenLow; g <= point.GenHigh; g++ {
		if !have[g] {
			return false
		}
	}
	return true
}

// TestPlanKeepsWhatKeptPointsNeed is the retention property: over random
// schedules of full, incremental and differential backups of two
// instances, with random losses, and random keep policies, every restore
// point the plan keeps still restores from the kept backups alone, the
// catalog's verdict on every point agrees with an independent model of a
// restore, and --keep-last N keeps at least min(N, restorable points)
// points per instance (any policy at least the newest).
func TestPlanKeepsWhatKeptPointsNeed(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 12))
	for run := range 300 {
		backups := slices.Concat(schedule(r, "dc1", 0), schedule(r, "dc2", 1000))
		c := New(backups)
		p := Policy{Location: time.UTC}
		for p.Empty() {
			pick := func() int { return []int{0, 0, 1, 2, 3, 7, -1}[r.IntN(7)] }
			p.Last, p.Hourly, p.Daily, p.Weekly, p.Monthly, p.Yearly = pick(), pick(), pick(), pick(), pick(), pick()
		}
		plan, err := c.Plan(p, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(plan) != len(backups) {
			t.Fatalf("run %d: plan decides %d of %d backups", run, len(plan), len(backups))
		}
		kept := map[string]Backup{}
		for _, d := range plan {
			if d.Keep {
				kept[d.Backup.ID] = d.Backup
			}
			if len(d.Reasons) == 0 {
				t.Fatalf("run %d: %s decided without a reason", run, d.Backup.ID)
			}
		}
		keptPoints := map[Key]int{}
		restorable := map[Key]int{}
		for _, d := range plan {
			pt, _ := c.Point(d.Backup.ID)
			if pt.Restorable() != restores(backupsByID(backups), d.Backup) {
				t.Fatalf("run %d: %s: the catalog says restorable=%v (%s), the model disagrees", run, d.Backup.ID, pt.Restorable(), pt.Problem)
			}
			if pt.Restorable() {
				restorable[d.Backup.Key()]++
			}
			isPoint := slices.ContainsFunc(d.Reasons, func(s string) bool { return strings.HasPrefix(s, "restore point kept") })
			if !isPoint {
				continue
			}
			keptPoints[d.Backup.Key()]++
			if !restores(kept, d.Backup) {
				t.Fatalf("run %d (policy %+v): kept restore point %s (%v) no longer restores from the kept backups", run, p, d.Backup.ID, d.Reasons)
			}
		}
		for k, n := range restorable {
			want := 1 // every rule keeps the newest point
			if p.Last > 0 {
				want = p.Last
			} else if p.Last < 0 {
				want = n
			}
			if got := keptPoints[k]; got < min(want, n) {
				t.Fatalf("run %d (policy %+v): %v keeps %d of %d restorable points", run, p, k, got, n)
			}
		}
	}
}

func backupsByID(bs []Backup) map[string]Backup {
	m := map[string]Backup{}
	for _, b := range bs {
		m[b.ID] = b
	}
	return m
}
