package inspect

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// dirOf returns the directory of a reported file.
func dirOf(file string) string { return filepath.Dir(file) }

// streamKey identifies a log stream: directory and upper-case base name
// (Windows compares names case-insensitively).
type streamKey struct{ dir, base string }

// link builds the log streams of every directory, checks their chains and
// ties checkpoints and databases to them. It runs after every file has
// been inspected, when the report's slices no longer grow.
func (in *inspector) link() {
	rep := in.rep
	byKey := map[streamKey][]*Log{}
	var keys []streamKey
	for i := range rep.Logs {
		l := &rep.Logs[i]
		if (l.Role != RoleArchived && l.Role != RoleCurrent) || (!l.HeaderOK && l.Role == RoleCurrent) {
			continue
		}
		if !l.HeaderOK { // an archived log without header: its generation comes from its name
			ln, _ := format.ParseLogName(filepath.Base(l.File))
			l.Generation = ln.Gen
		}
		k := streamKey{l.dir, strings.ToUpper(l.Base)}
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], l)
	}
	streams := map[streamKey]*Stream{}
	for _, k := range keys {
		s := in.chain(k, byKey[k])
		rep.Streams = append(rep.Streams, s)
	}
	for i := range rep.Streams {
		s := &rep.Streams[i]
		streams[streamKey{s.Dir, strings.ToUpper(s.Base)}] = s
	}
	for i := range rep.Checkpoints {
		in.linkCheckpoint(&rep.Checkpoints[i], streams)
	}
	in.sparePastLogs(streams)
	for i := range rep.Databases {
		in.linkDatabase(&rep.Databases[i])
	}
}

// chain sorts the logs of one stream by generation and checks every link.
// Each log's Chain field says how it joins its predecessor: "ok", or the
// JET_err of the broken rule (gap, signature mismatch, time link, segment
// checksum link). A log that failed verification is not linked.
func (in *inspector) chain(k streamKey, logs []*Log) Stream {
	slices.SortStableFunc(logs, func(a, b *Log) int {
		switch {
		case a.Generation != b.Generation:
			if a.Generation < b.Generation {
				return -1
			}
			return 1
		case a.Role != b.Role: // archived before current
			return strings.Compare(a.Role, b.Role)
		}
		return strings.Compare(a.File, b.File)
	})
	s := Stream{Dir: k.dir, Base: logs[0].Base, FirstGen: logs[0].Generation, LastGen: logs[len(logs)-1].Generation,
		Logs: len(logs), Chain: "ok", Databases: []string{}, gens: map[uint32]*Log{}}
	last := logs[len(logs)-1]
	if last.Header != nil {
		s.signLog, s.hasSign = last.Header.SignLog, true
		s.SignLog = sig(s.signLog)
	}
	fail := func(l *Log, err error, link bool) {
		p := problemFrom(l.File, "check log chain", ese.ErrInvalidLogSequence, err)
		l.Chain, l.ChainErrorCode, l.ChainErrorName = chainText(p), p.JetErr, p.Name
		l.linkErr = link
		in.err(p)
		if s.ChainErrorCode == 0 {
			s.Chain, s.ChainErrorCode, s.ChainErrorName = l.Chain, p.JetErr, p.Name
		}
	}
	for i, l := range logs {
		l.InChain = true
		if l.check == nil {
			if s.ChainErrorCode == 0 && s.Chain == "ok" {
				s.Chain = "not fully checked: " + filepath.Base(l.File) + " failed verification"
			}
			continue // l.Chain already says why
		}
		if err := format.CheckChain([]format.ChainLink{{Name: l.File, Check: l.check}}, nil); err != nil {
			fail(l, err, false)
			continue
		}
		if i > 0 {
			prev := logs[i-1]
			if prev.check == nil || prev.ChainErrorCode == int32(ese.ErrLogGenerationMismatch) {
				l.Chain = fmt.Sprintf("not checked: previous generation 0x%X (%s) could not be verified", prev.Generation, filepath.Base(prev.File))
				continue
			}
			pc := prev.check
			if in.opts.NoVerify {
				// Without the segments the accumulated checksum of the
				// previous log is unknown; take the value this log expects
				// so that only the header rules are checked.
				c := *pc
				c.AllSegmentsXOR = l.check.Header.ChecksumPrevLogAllSegments
				pc = &c
			}
			links := []format.ChainLink{{Name: prev.File, Check: pc}, {Name: l.File, Check: l.check}}
			if err := format.CheckChain(links, nil); err != nil {
				fail(l, err, true)
				continue
			}
		}
		l.Chain = "ok"
		s.gens[l.Generation] = l
	}
	return s
}

// chainText is the Chain field for a broken link: the JET_err and cause.
func chainText(p Problem) string {
	return fmt.Sprintf("%s (%d): %s", p.Name, p.JetErr, p.Message)
}

// linkCheckpoint compares a checkpoint with the stream of its base name in
// its directory: same log signature, and a checkpoint generation that the
// logs present cover.
func (in *inspector) linkCheckpoint(c *Checkpoint, streams map[streamKey]*Stream) {
	if c.Value == nil {
		c.Stream = "not checked: the checkpoint is unreadable"
		return
	}
	s := streams[streamKey{c.dir, strings.ToUpper(c.Base)}]
	if s == nil {
		c.Stream = "no logs of base " + c.Base + " next to the checkpoint"
		return
	}
	s.Checkpoint = c.File
	s.CheckpointGen = uint32(c.Value.LgposCheckpoint.Gen)
	gen := s.CheckpointGen
	switch {
	case s.hasSign && c.Value.SignLog != s.signLog:
		// A backup refuses it (JET_errBadCheckpointSignature).
		c.Stream = fmt.Sprintf("log signature %s differs from the logs' %s", c.Value.SignLog, s.signLog)
		in.err(note(c.File, "check checkpoint", ese.ErrBadCheckpointSignature, "%s", c.Stream))
	case gen < s.FirstGen || gen > s.LastGen:
		// A backup copies from the checkpoint's generation: it refuses
		// (JET_errMissingFileToBackup).
		c.Stream = fmt.Sprintf("checkpoint generation 0x%X is outside the logs present (0x%X-0x%X)", gen, s.FirstGen, s.LastGen)
		in.err(note(c.File, "check checkpoint", ese.ErrMissingFileToBackup, "%s", c.Stream))
	default:
		c.Stream = "ok"
	}
}

// sparePastLogs turns the errors of logs below the checkpoint of their
// stream into warnings: neither recovery (which starts at the checkpoint)
// nor a backup (which copies from the checkpoint's generation) reads them
// again, so they are judged as the engine judges them. That covers a log
// below the checkpoint that is damaged, misnamed or missing, and the link
// from the checkpoint's generation to its predecessor.
func (in *inspector) sparePastLogs(streams map[streamKey]*Stream) {
	spare := map[string]func(Problem) bool{}
	for i := range in.rep.Logs {
		l := &in.rep.Logs[i]
		s := streams[streamKey{l.dir, strings.ToUpper(l.Base)}]
		if !l.InChain || s == nil || s.CheckpointGen == 0 {
			continue
		}
		if c := in.checkpointOf(s.Checkpoint); c == nil || c.Stream != "ok" {
			continue
		}
		// A misnamed log counts with the higher of its two generations,
		// the one in its name (what a backup lists) and the one in its
		// header.
		gen := l.Generation
		if ln, ok := format.ParseLogName(filepath.Base(l.File)); ok && ln.Kind == format.LogArchived {
			gen = max(gen, ln.Gen)
		}
		switch cp := s.CheckpointGen; {
		case gen < cp:
			spare[l.File] = func(Problem) bool { return true }
		case gen == cp && l.linkErr:
			code := l.ChainErrorCode
			spare[l.File] = func(p Problem) bool { return p.Op == "check log chain" || p.JetErr == code }
		}
	}
	if len(spare) == 0 {
		return
	}
	kept := in.rep.Errors[:0]
	for _, p := range in.rep.Errors {
		if f := spare[p.File]; f != nil && f(p) {
			p.Message += " (before the checkpoint: neither recovery nor a backup needs it)"
			in.warn(p)
			continue
		}
		kept = append(kept, p)
	}
	in.rep.Errors = kept
}

// linkDatabase finds the stream whose signLog is the database's and says
// whether the logs a dirty database needs for recovery are present.
func (in *inspector) linkDatabase(d *Database) {
	h := d.Header
	if h == nil {
		d.RequiredLogs = "not checked: no readable header"
		return
	}
	var s *Stream
	if !h.SignLog.IsZero() {
		for i := range in.rep.Streams {
			st := &in.rep.Streams[i]
			if st.Dir == dirOf(d.File) && st.hasSign && st.signLog == h.SignLog {
				s = st
				break
			}
		}
	}
	if s != nil {
		d.LogStream = s.Base
		s.Databases = append(s.Databases, d.File)
	}
	lo, hi := h.GenMinRequired, max(h.GenMaxRequired, h.GenMaxCommitted)
	switch {
	case d.Consistent:
		d.RequiredLogs = "none: clean shutdown"
		return
	case lo == 0 && hi == 0:
		d.RequiredLogs = "none recorded in the header (state " + d.StateName + ")"
		return
	case s == nil && !in.isDir:
		d.RequiredLogs = fmt.Sprintf("needs generations 0x%X-0x%X; not checked (a single file was inspected)", lo, hi)
		return
	case s == nil:
		d.RequiredLogs = fmt.Sprintf("missing: needs generations 0x%X-0x%X, no log stream with this log signature next to the database", lo, hi)
		in.warn(note(d.File, "check required logs", ese.ErrRequiredLogFilesMissing, "%s", d.RequiredLogs))
		return
	}
	if s.Checkpoint != "" && s.CheckpointGen != 0 && s.CheckpointGen < lo {
		if c := in.checkpointOf(s.Checkpoint); c != nil && c.Value != nil && c.Value.SignLog == h.SignLog {
			lo = s.CheckpointGen
		}
	}
	if lo == 0 || lo > hi {
		lo = hi
	}
	var missing []string
	nMissing := 0
	for g := lo; ; g++ {
		if s.gens[g] == nil {
			if nMissing++; nMissing <= 10 {
				missing = append(missing, fmt.Sprintf("0x%X", g))
			}
		}
		if g == hi {
			break
		}
	}
	if nMissing > len(missing) {
		missing = append(missing, fmt.Sprintf("and %d more", nMissing-len(missing)))
	}
	var why string
	switch {
	case len(missing) > 0:
		why = fmt.Sprintf("missing or unverified generations %s (needs 0x%X-0x%X, stream %s has 0x%X-0x%X)",
			strings.Join(missing, ","), lo, hi, s.Base, s.FirstGen, s.LastGen)
	default:
		why = timeLinkProblem(h, s)
	}
	if why != "" {
		d.RequiredLogs = "missing: " + why
		in.warn(note(d.File, "check required logs", ese.ErrRequiredLogFilesMissing, "%s", why))
		return
	}
	d.RequiredLogs = fmt.Sprintf("present: needs generations 0x%X-0x%X, stream %s has 0x%X-0x%X", lo, hi, s.Base, s.FirstGen, s.LastGen)
}

// timeLinkProblem checks that the logs present are the very generations the
// header names: log lGenMaxRequired must have been created at
// logtimeGenMaxRequired, log lGenMaxCommitted at logtimeGenMaxCreate, when
// the header records those times (ese-format.md §7).
func timeLinkProblem(h *format.DBHeader, s *Stream) string {
	check := func(gen uint32, want format.LogTime, field string) string {
		l := s.gens[gen]
		if gen == 0 || want.IsZero() || l == nil || l.Header == nil || l.Header.Create == want {
			return ""
		}
		return fmt.Sprintf("log generation 0x%X (%s) was created %s, the header's %s is %s: it is another log than the one the database needs",
			gen, filepath.Base(l.File), l.Header.Create, field, want)
	}
	if p := check(h.GenMaxRequired, h.LogtimeGenMaxRequired, "logtimeGenMaxRequired"); p != "" {
		return p
	}
	return check(h.GenMaxCommitted, h.LogtimeGenMaxCreate, "logtimeGenMaxCreate")
}

// checkpointOf returns the report entry of a checkpoint file.
func (in *inspector) checkpointOf(file string) *Checkpoint {
	for i := range in.rep.Checkpoints {
		if in.rep.Checkpoints[i].File == file {
			return &in.rep.Checkpoints[i]
		}
	}
	return nil
}
