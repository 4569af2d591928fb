package catalog

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Policy says which restore points to keep, counted per instance as
// restic counts snapshots: the newest Last points, and the newest point of
// each of the newest Hourly hours, Daily days, Weekly ISO weeks, Monthly
// months and Yearly years that have one. A count of -1 keeps every bucket.
type Policy struct {
	Last, Hourly, Daily, Weekly, Monthly, Yearly int
	// Location is the time zone of the buckets; nil is time.Local.
	Location *time.Location
}

// ErrEmptyPolicy means a policy keeps nothing: forgetting everything is
// never what a retention run means.
var ErrEmptyPolicy = errors.New("the policy keeps nothing: give at least one keep option")

// Empty reports whether the policy keeps no restore point.
func (p Policy) Empty() bool {
	return p.Last == 0 && p.Hourly == 0 && p.Daily == 0 && p.Weekly == 0 && p.Monthly == 0 && p.Yearly == 0
}

// Decision is what a retention plan does with one backup, and why.
type Decision struct {
	Backup  Backup
	Keep    bool
	Reasons []string
}

// Plan decides, for every backup of the instances f leaves, whether it is
// kept and why. A backup is kept when it is a restore point the policy
// keeps or when a kept restore point needs it (its chain's full backup,
// the incrementals and differentials before it, the bases of page deltas);
// nothing a kept point needs is ever forgotten. Only restorable points
// count. An instance with a backup whose details could not be read is kept
// whole: what it needs cannot be judged.
func (c *Catalog) Plan(p Policy, f Filter) ([]Decision, error) {
	if p.Empty() {
		return nil, ErrEmptyPolicy
	}
	loc := p.Location
	if loc == nil {
		loc = time.Local
	}
	var out []Decision
	for _, key := range c.Instances() {
		if !f.Matches(key) {
			continue
		}
		var backups []Backup
		var points []Point
		unreadable := 0
		for _, ch := range c.Chains {
			if ch.Key != key {
				continue
			}
			backups = append(backups, ch.Backups...)
			for _, pt := range c.Points(ch) {
				if pt.Restorable() {
					points = append(points, pt)
				}
			}
			for _, b := range ch.Backups {
				if b.Unknown != nil {
					unreadable++
				}
			}
		}
		slices.SortStableFunc(backups, func(a, b Backup) int { return a.Time.Compare(b.Time) })
		reasons := map[string][]string{}
		if unreadable > 0 {
			for _, b := range backups {
				reasons[b.ID] = append(reasons[b.ID], fmt.Sprintf("the details of %d backup(s) of this instance could not be read, so nothing of it is forgotten", unreadable))
			}
		} else {
			// Newest first, as restic counts.
			slices.SortStableFunc(points, func(a, b Point) int { return b.Backup.Time.Compare(a.Backup.Time) })
			for _, r := range rules(p, loc) {
				kept, last := 0, ""
				for _, pt := range points {
					if r.n >= 0 && kept >= r.n {
						break
					}
					bucket := r.bucket(pt.Backup.Time)
					if bucket == last {
						continue
					}
					last = bucket
					kept++
					why := r.name
					if bucket != "" {
						why += " " + bucket
					}
					reasons[pt.Backup.ID] = append(reasons[pt.Backup.ID], "restore point kept ("+why+")")
					for _, id := range pt.Needs() {
						if id != pt.Backup.ID {
							reasons[id] = appendOnce(reasons[id], "needed by kept restore point "+Short(pt.Backup.ID))
						}
					}
				}
			}
		}
		restorable := map[string]string{}
		for _, ch := range c.Chains {
			if ch.Key == key {
				for _, pt := range c.Points(ch) {
					restorable[pt.Backup.ID] = pt.Problem
				}
			}
		}
		for _, b := range backups {
			d := Decision{Backup: b, Keep: len(reasons[b.ID]) > 0, Reasons: reasons[b.ID]}
			if !d.Keep {
				if problem := restorable[b.ID]; problem != "" {
					d.Reasons = []string{"does not restore (" + problem + ") and no kept restore point needs it"}
				} else {
					d.Reasons = []string{"restore point the policy does not keep, and no kept restore point needs it"}
				}
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// appendOnce appends s unless the list already holds it.
func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// rule is one keep option: how many buckets, and the bucket of a time
// ("" buckets every point by itself).
type rule struct {
	name   string
	n      int
	bucket func(time.Time) string
}

// rules returns the policy's keep options that keep something.
func rules(p Policy, loc *time.Location) []rule {
	n := 0
	each := func(time.Time) string { n++; return fmt.Sprint(n) }
	all := []rule{
		{"last", p.Last, each},
		{"hourly", p.Hourly, func(t time.Time) string { return t.In(loc).Format("2006-01-02 15h") }},
		{"daily", p.Daily, func(t time.Time) string { return t.In(loc).Format("2006-01-02") }},
		{"weekly", p.Weekly, func(t time.Time) string {
			y, w := t.In(loc).ISOWeek()
			return fmt.Sprintf("%d-W%02d", y, w)
		}},
		{"monthly", p.Monthly, func(t time.Time) string { return t.In(loc).Format("2006-01") }},
		{"yearly", p.Yearly, func(t time.Time) string { return t.In(loc).Format("2006") }},
	}
	var out []rule
	for _, r := range all {
		if r.n != 0 {
			out = append(out, r)
		}
	}
	return out
}
