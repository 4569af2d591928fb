package catalog

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotFound means no backup matches what was asked for.
var ErrNotFound = errors.New("no such backup")

// ErrAmbiguous means what was asked for matches backups of more than one
// instance, or an id prefix matches more than one backup.
var ErrAmbiguous = errors.New("ambiguous")

// Filter narrows a choice of backups to instances; empty fields match all.
type Filter struct {
	// Host is the host name, matched exactly (case-insensitively).
	Host string
	// Source is the source location, matched exactly.
	Source string
	// Instance is a prefix of the instance's identity.
	Instance string
}

// Matches reports whether the instance k passes the filter.
func (f Filter) Matches(k Key) bool {
	return (f.Host == "" || strings.EqualFold(f.Host, k.Host)) &&
		(f.Source == "" || f.Source == k.Source) &&
		(f.Instance == "" || strings.HasPrefix(k.Instance, f.Instance))
}

// String describes the filter for messages.
func (f Filter) String() string {
	var parts []string
	if f.Host != "" {
		parts = append(parts, "host "+f.Host)
	}
	if f.Source != "" {
		parts = append(parts, "path "+f.Source)
	}
	if f.Instance != "" {
		parts = append(parts, "instance "+f.Instance)
	}
	if len(parts) == 0 {
		return "any instance"
	}
	return strings.Join(parts, ", ")
}

// Choice is a restore point chosen by Select, with the newer backups of
// the same instance it passed over because they do not restore.
type Choice struct {
	Point   Point
	Skipped []Point
}

// Select chooses a restore point: the backup whose id starts with id, or,
// when id is "" or "latest", the newest restorable backup at or before at
// (any time when at is zero) of the one instance the filter leaves. It
// fails with ErrNotFound naming what exists, and with ErrAmbiguous naming
// the candidates when the filter leaves more than one instance.
func (c *Catalog) Select(f Filter, id string, at time.Time) (Choice, error) {
	if id != "" && id != "latest" {
		var found []Backup
		for _, ch := range c.Chains {
			for _, b := range ch.Backups {
				if strings.HasPrefix(b.ID, id) && f.Matches(b.Key()) {
					found = append(found, b)
				}
			}
		}
		switch len(found) {
		case 0:
			return Choice{}, fmt.Errorf("%w: no esesnap backup %q of %s in the repository (%s)", ErrNotFound, id, f, c.summary())
		case 1:
			p, _ := c.Point(found[0].ID)
			return Choice{Point: p}, nil
		default:
			return Choice{}, fmt.Errorf("%w: backup id %q matches %d backups; give more of it", ErrAmbiguous, id, len(found))
		}
	}
	var keys []Key
	for _, k := range c.Instances() {
		if f.Matches(k) {
			keys = append(keys, k)
		}
	}
	when := "latest"
	if !at.IsZero() {
		when = "at or before " + at.Format("2006-01-02 15:04:05")
	}
	switch {
	case len(keys) == 0:
		return Choice{}, fmt.Errorf("%w: no esesnap backup of %s in the repository (%s)", ErrNotFound, f, c.summary())
	case len(keys) > 1:
		var names []string
		for _, k := range keys {
			names = append(names, k.String())
		}
		return Choice{}, fmt.Errorf("%w: %s backups of %d instances match %s: %s; narrow it with --host, --path or --instance",
			ErrAmbiguous, when, len(keys), f, strings.Join(names, "; "))
	}
	var best *Point
	var newer []Point
	for _, ch := range c.Chains {
		if ch.Key != keys[0] {
			continue
		}
		for _, p := range c.Points(ch) {
			if !at.IsZero() && p.Backup.Time.After(at) {
				continue
			}
			if !p.Restorable() {
				newer = append(newer, p)
				continue
			}
			if best == nil || !p.Backup.Time.Before(best.Backup.Time) {
				pp := p
				best = &pp
			}
		}
	}
	if best == nil {
		msg := fmt.Sprintf("no restorable backup of %s %s", keys[0], when)
		if len(newer) > 0 {
			msg += fmt.Sprintf(" (%d backup(s) do not restore; the newest, %s: %s)", len(newer), Short(newer[len(newer)-1].Backup.ID), newer[len(newer)-1].Problem)
		}
		if first := c.oldestRestorable(keys[0]); first != nil && !at.IsZero() {
			msg += fmt.Sprintf("; the oldest restorable backup is %s of %s", Short(first.Backup.ID), first.Backup.Time.Local().Format("2006-01-02 15:04:05"))
		}
		return Choice{}, fmt.Errorf("%w: %s", ErrNotFound, msg)
	}
	ch := Choice{Point: *best}
	for _, p := range newer {
		if p.Backup.Time.After(best.Backup.Time) {
			ch.Skipped = append(ch.Skipped, p)
		}
	}
	return ch, nil
}

// Summary says in one line what the catalog holds, for "not found"
// messages.
func (c *Catalog) Summary() string { return c.summary() }

// summary says what the repository holds, for "not found" messages.
func (c *Catalog) summary() string {
	keys := c.Instances()
	if len(keys) == 0 {
		return "it holds no esesnap backups"
	}
	var names []string
	for _, k := range keys {
		names = append(names, k.String())
	}
	return fmt.Sprintf("it holds backups of %d instance(s): %s", len(keys), strings.Join(names, "; "))
}

// oldestRestorable is the instance's oldest restore point that restores,
// or nil.
func (c *Catalog) oldestRestorable(k Key) *Point {
	var first *Point
	for _, ch := range c.Chains {
		if ch.Key != k {
			continue
		}
		for _, p := range c.Points(ch) {
			if p.Restorable() && (first == nil || p.Backup.Time.Before(first.Backup.Time)) {
				pp := p
				first = &pp
			}
		}
	}
	return first
}
