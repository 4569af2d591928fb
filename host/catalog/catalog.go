// Package catalog is what a repository of backup sets holds, seen the way
// an administrator restores from it: instances (one database instance on
// one host at one path), their chains (a full backup and the incrementals
// and differentials after it), the restore points each chain offers and
// whether each restores, and which backups a retention policy must keep.
//
// It is pure: the CLI fills it from restic's snapshot list and the sets'
// manifests, and acts on what it says (restore, restic forget).
package catalog

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/esesnap/esesnap/protocol"
)

// Backup is one stored backup set.
type Backup struct {
	// ID is the set's id in its repository (a restic snapshot id).
	ID string
	// Time is when the backup began.
	Time time.Time
	// Host is the machine it was taken on.
	Host string
	// Source is the source location as the backup recorded it (for ESE
	// the instance directory).
	Source string
	// Instance is the source's identity in its own terms, stable across
	// backups of one instance and different for another instance at the
	// same place (ESE: the log stream's signature, which a new instance or
	// a reset log stream changes); "" when unknown or when the format has
	// none.
	Instance string
	// Kind is the backup kind.
	Kind protocol.Kind
	// Chain is the id of the chain the backup was taken in; "" for a set
	// stored outside esesnap's chains (restic's command mode), which is a
	// chain of its own.
	Chain string
	// GenLow and GenHigh are the log generations the set holds (0 when it
	// holds none or they are not known).
	GenLow, GenHigh uint32
	// Bases are the ids of the backups whose files this set's page deltas
	// are made against; a restore reads them too.
	Bases []string
	// Unknown, when set, says why the set's details (kind, generations,
	// instance) could not be read: such a backup is never judged
	// restorable and never planned away.
	Unknown error
}

// Key identifies an instance: the host, the source and the instance's own
// identity.
type Key struct {
	Host, Source, Instance string
}

// String names the instance for people: host:source, and the first 16
// characters of its identity.
func (k Key) String() string {
	s := k.Host + ":" + k.Source
	if k.Instance != "" {
		s += " (instance " + Short(k.Instance) + ")"
	}
	return s
}

// Short returns the first 16 characters of an id, enough to tell ids apart
// in a listing.
func Short(id string) string {
	if len(id) > 16 {
		return id[:16]
	}
	return id
}

// Key returns the instance the backup is of.
func (b Backup) Key() Key { return Key{Host: b.Host, Source: b.Source, Instance: b.Instance} }

// startsChain reports whether the backup holds the databases a chain
// starts from.
func (b Backup) startsChain() bool {
	return b.Kind == protocol.KindFull || b.Kind == protocol.KindCopy
}

// Chain is a full (or copy) backup of one instance and the incrementals
// and differentials taken after it in the same chain, oldest first.
type Chain struct {
	ID      string
	Key     Key
	Backups []Backup
}

// Point is a backup seen as a restore point: what a restore of it reads,
// and whether that restores.
type Point struct {
	Backup Backup
	// Chain is the id of the point's chain.
	Chain string
	// Members lists the ids of the chain's backups a restore of this
	// point reads: from the full backup before it to the point, oldest
	// first.
	Members []string
	// Bases lists the ids of the backups the members' page deltas are made
	// against, which a restore reads too.
	Bases []string
	// Problem says why the point does not restore; "" when it does.
	Problem string
}

// Needs lists the ids of every backup a restore of this point reads: its
// members, then their bases.
func (p Point) Needs() []string { return slices.Concat(p.Members, p.Bases) }

// Restorable reports whether a restore of the point would find every set
// it needs and every log generation in between.
func (p Point) Restorable() bool { return p.Problem == "" }

// Catalog is the backups of a repository grouped into instances and
// chains.
type Catalog struct {
	// Chains holds every chain, by instance then by the time of their
	// first backup.
	Chains []*Chain
	byID   map[string]Backup
}

// New groups backups into chains: the backups of one instance with the
// same chain id, and each backup without a chain id by itself.
func New(backups []Backup) *Catalog {
	c := &Catalog{byID: map[string]Backup{}}
	type chainKey struct {
		key   Key
		chain string
	}
	chains := map[chainKey]*Chain{}
	sorted := slices.Clone(backups)
	slices.SortStableFunc(sorted, func(a, b Backup) int { return a.Time.Compare(b.Time) })
	for _, b := range sorted {
		c.byID[b.ID] = b
		ck := chainKey{b.Key(), b.Chain}
		if b.Chain == "" {
			ck.chain = "\x00" + b.ID
		}
		ch := chains[ck]
		if ch == nil {
			ch = &Chain{ID: b.Chain, Key: b.Key()}
			chains[ck] = ch
			c.Chains = append(c.Chains, ch)
		}
		ch.Backups = append(ch.Backups, b)
	}
	slices.SortStableFunc(c.Chains, func(a, b *Chain) int {
		return cmp.Or(
			cmp.Compare(a.Key.Host, b.Key.Host),
			cmp.Compare(a.Key.Source, b.Key.Source),
			cmp.Compare(a.Key.Instance, b.Key.Instance),
			a.Backups[0].Time.Compare(b.Backups[0].Time),
		)
	})
	return c
}

// Backup returns the backup of the given id.
func (c *Catalog) Backup(id string) (Backup, bool) {
	b, ok := c.byID[id]
	return b, ok
}

// Instances returns the instances of the catalog in order.
func (c *Catalog) Instances() []Key {
	var keys []Key
	for _, ch := range c.Chains {
		if len(keys) == 0 || keys[len(keys)-1] != ch.Key {
			keys = append(keys, ch.Key)
		}
	}
	return keys
}

// Points returns the restore points of every backup of the chain, oldest
// first.
func (c *Catalog) Points(ch *Chain) []Point {
	points := make([]Point, len(ch.Backups))
	for i := range ch.Backups {
		points[i] = c.point(ch, i)
	}
	return points
}

// Point returns the restore point of the backup with the given id.
func (c *Catalog) Point(id string) (Point, bool) {
	for _, ch := range c.Chains {
		for i, b := range ch.Backups {
			if b.ID == id {
				return c.point(ch, i), true
			}
		}
	}
	return Point{}, false
}

// point judges the restore point of the chain's i-th backup. A restore
// reads the chain's members from the last full or copy backup at or before
// it, and the bases of their page deltas; it restores when each of those
// is known and present and their logs cover every generation from the full
// backup's first to the point's last.
func (c *Catalog) point(ch *Chain, i int) Point {
	target := ch.Backups[i]
	p := Point{Backup: target, Chain: ch.ID}
	start := -1
	for j := i; j >= 0; j-- {
		if ch.Backups[j].startsChain() {
			start = j
			break
		}
	}
	if start < 0 {
		p.Members = []string{target.ID}
		if target.Unknown != nil {
			p.Problem = fmt.Sprintf("its details could not be read: %v", target.Unknown)
		} else if ch.ID == "" {
			p.Problem = fmt.Sprintf("a %s backup stored outside an esesnap chain (restic command mode) has no full backup to restore onto; restore a full or copy backup instead", target.Kind)
		} else {
			p.Problem = fmt.Sprintf("chain %s holds no full backup before it (was the full backup forgotten?)", Short(ch.ID))
		}
		return p
	}
	members := ch.Backups[start : i+1]
	seen := map[string]bool{}
	for _, m := range members {
		p.Members = append(p.Members, m.ID)
		seen[m.ID] = true
	}
	var problems []string
	for _, m := range members {
		if m.Unknown != nil {
			problems = append(problems, fmt.Sprintf("the details of %s could not be read: %v", Short(m.ID), m.Unknown))
		}
		for _, base := range m.Bases {
			if seen[base] {
				continue
			}
			seen[base] = true
			p.Bases = append(p.Bases, base)
			if _, ok := c.byID[base]; !ok {
				problems = append(problems, fmt.Sprintf("the base %s of the page deltas of %s is not in the repository (forgotten? 'esesnap forget' keeps the bases kept restore points need)", Short(base), Short(m.ID)))
			}
		}
	}
	if len(problems) == 0 {
		if missing := missingGenerations(members); len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("log generation(s) %s are in no backup of the chain", formatRanges(missing)))
		}
	}
	p.Problem = strings.Join(problems, "; ")
	return p
}

// genRange is a closed range of log generations.
type genRange struct{ low, high uint32 }

// missingGenerations returns the generations from the first member's low
// to the last member's high that no member holds, as ranges.
func missingGenerations(members []Backup) []genRange {
	first, last := members[0], members[len(members)-1]
	if last.GenHigh == 0 {
		return nil
	}
	low, high := first.GenLow, last.GenHigh
	if first.GenHigh == 0 {
		low = 0
		for _, m := range members {
			if m.GenLow != 0 && (low == 0 || m.GenLow < low) {
				low = m.GenLow
			}
		}
	}
	var held []genRange
	for _, m := range members {
		if m.GenHigh != 0 {
			held = append(held, genRange{m.GenLow, m.GenHigh})
		}
	}
	slices.SortFunc(held, func(a, b genRange) int { return cmp.Compare(a.low, b.low) })
	var missing []genRange
	next := low // the lowest generation not yet covered
	for _, r := range held {
		if r.high < next {
			continue
		}
		if r.low > next {
			missing = append(missing, genRange{next, min(r.low-1, high)})
		}
		next = r.high + 1
		if next > high {
			break
		}
	}
	if next <= high {
		missing = append(missing, genRange{next, high})
	}
	return slices.DeleteFunc(missing, func(r genRange) bool { return r.low > high || r.low > r.high })
}

// formatRanges writes generation ranges as "0x10-0x12, 0x15".
func formatRanges(rs []genRange) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		if r.low == r.high {
			parts[i] = fmt.Sprintf("%#x", r.low)
		} else {
			parts[i] = fmt.Sprintf("%#x-%#x", r.low, r.high)
		}
	}
	return strings.Join(parts, ", ")
}
