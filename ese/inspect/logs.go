package inspect

import (
	"context"
	"io"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

// flushMapPageSize is the page size of flush-map files (.jfm), header
// included.
const flushMapPageSize = 8192

// roleOf maps a parsed log name to the role of the file.
func roleOf(ln format.LogName, named bool) string {
	if !named {
		return RoleUnnamed
	}
	switch ln.Kind {
	case format.LogArchived:
		return RoleArchived
	case format.LogCurrent:
		return RoleCurrent
	case format.LogTmp:
		return RoleTmp
	case format.LogReserve:
		return RoleReserve
	}
	return RoleUnnamed
}

// notInChain explains why a log of role is never part of a chain.
func notInChain(role string) string {
	switch role {
	case RoleTmp:
		return "not in chain: tmp log (next generation being pre-formatted)"
	case RoleReserve:
		return "not in chain: reserve log"
	}
	return "not in chain: the file name is not a log name"
}

// log inspects a transaction log file. Problems of tmp and reserve logs are
// warnings: ESE never replays them and recreates them when needed.
func (in *inspector) log(ctx context.Context, r io.ReaderAt, size int64, file, name string, gz bool, head []byte) {
	ln, named := format.ParseLogName(name)
	l := Log{File: file, Gunzipped: gz, Size: size, Role: roleOf(ln, named), Base: ln.Base,
		Attached: []Attached{}, dir: dirOf(file)}
	optional := l.Role == RoleTmp || l.Role == RoleReserve
	report := in.err
	if optional || l.Role == RoleUnnamed {
		l.Chain = notInChain(l.Role)
	}
	if optional {
		report = in.warn
	}
	defer func() { in.rep.Logs = append(in.rep.Logs, l) }()

	if len(head) > format.LogHeaderSize {
		head = head[:format.LogHeaderSize]
	}
	h, err := format.ParseLogHeader(head)
	if err != nil {
		// An unused slot is all zero; anything else is a broken header.
		if zero, zerr := in.allZero(r, size); zerr != nil {
			in.err(problemFrom(file, "read log", ese.ErrDiskIO, zerr))
			return
		} else if zero {
			l.Empty = true
			if optional {
				l.Chain += "; unused slot (all zero)"
				return
			}
			report(note(file, "read log header", ese.ErrLogFileCorrupt, "the log file is all zero bytes"))
			l.Chain = "not checked: the log has no header"
			return
		}
		p := problemFrom(file, "read log header", ese.ErrLogFileCorrupt, err)
		p.Message = "not a valid log header: " + p.Message
		report(p)
		if !optional {
			l.Chain = "not checked: the log has no valid header"
		}
		return
	}
	l.HeaderOK = true
	l.Header = h
	l.Generation = h.Generation
	l.Version = h.Version()
	l.CbSec = int(h.CbSec)
	l.CsecLGFile = int(h.CsecLGFile)
	l.PageSize = h.PageSize()
	l.Created = h.Create.String()
	l.PrevGen = h.PrevGen.String()
	l.SignLog = sig(h.SignLog)
	l.LgposCheckpoint = pos(h.LgposCheckpoint)
	l.CircularLogging = h.Flags&format.LogFlagCircularLogging != 0
	l.Attached = attached(h.Attach)
	if in.opts.NoVerify {
		l.check = &format.LogCheck{Header: h}
		return
	}
	c, err := format.VerifyLog(r, size, file)
	if err != nil {
		report(problemFrom(file, "verify log", ese.ErrLogReadVerifyFailure, err))
		if !optional && l.Role != RoleUnnamed {
			l.Chain = "not checked: the log failed verification"
		}
		return
	}
	l.check = c
	l.Verified = true
	l.SegmentsOK, l.SegmentsEmpty, l.SegmentsShadow = c.Segments, c.SegmentsEmpty, c.SegmentsShadow
	l.LastSegment, l.Records = c.LastSegment, c.Records
}

// checkpoint inspects a checkpoint file from its first bytes in head.
func (in *inspector) checkpoint(file string, size int64, gz bool, head []byte, ln format.LogName) {
	c := Checkpoint{File: file, Gunzipped: gz, Size: size, Base: ln.Base, Attached: []Attached{}, dir: dirOf(file)}
	defer func() { in.rep.Checkpoints = append(in.rep.Checkpoints, c) }()
	if size != format.CheckpointSize {
		in.warn(note(file, "read checkpoint", ese.ErrCheckpointCorrupt,
			"file is %d bytes, a checkpoint has %d", size, format.CheckpointSize))
	}
	if len(head) > format.CheckpointSize {
		head = head[:format.CheckpointSize]
	}
	if len(head) < format.CheckpointSize {
		// ESE reads both copies; a short file's missing bytes read as
		// zeros, so a copy that is not there fails its checksum and the
		// other one is elected, as the engine does (a 4 KiB checkpoint is a
		// primary without shadow).
		head = append(append(make([]byte, 0, format.CheckpointSize), head...), make([]byte, format.CheckpointSize-len(head))...)
	}
	v, err := format.ParseCheckpoint(head)
	if err != nil {
		in.err(problemFrom(file, "read checkpoint", ese.ErrCheckpointCorrupt, err))
		return
	}
	c.Value = v
	c.Checkpoint = pos(v.LgposCheckpoint)
	c.SignLog = sig(v.SignLog)
	c.LastFullBackupCheckpoint = pos(v.LgposLastFullBackupCheckpoint)
	c.FullBackup = pos(v.LgposFullBackup)
	c.FullBackupTime = v.LogtimeFullBackup.String()
	c.IncBackup = pos(v.LgposIncBackup)
	c.IncBackupTime = v.LogtimeIncBackup.String()
	c.DbConsistency = pos(v.LgposDbConsistency)
	c.PrimaryOK, c.ShadowOK = v.PrimaryOK, v.ShadowOK
	c.LcsecLGFile = v.LcsecLGFile
	c.AttachPresent = v.Version&format.CheckpointAttachPresent != 0
	c.Attached = attached(v.Attach)
	switch {
	case !v.PrimaryOK:
		in.warn(note(file, "read checkpoint", ese.ErrCheckpointCorrupt, "primary copy fails its checksum; the shadow copy is used"))
	case !v.ShadowOK && size <= format.CheckpointCopySize:
		in.warn(note(file, "read checkpoint", ese.ErrCheckpointCorrupt, "the file holds no shadow copy; the primary is used"))
	case !v.ShadowOK:
		in.warn(note(file, "read checkpoint", ese.ErrCheckpointCorrupt, "shadow copy fails its checksum or differs from the primary"))
	}
}

// flushMap inspects a flush-map file: an 8 KiB header page with the plain
// XOR checksum and file type 7, then 8 KiB map pages with XOR+ECC checksums
// numbered from 0 (ese-format.md §6).
func (in *inspector) flushMap(ctx context.Context, r io.ReaderAt, size int64, file string, gz bool) error {
	const op = "verify flush map"
	m := FlushMap{File: file, Gunzipped: gz, Size: size}
	defer func() { in.rep.FlushMaps = append(in.rep.FlushMaps, m) }()
	head, err := in.readHead(r, min(size, flushMapPageSize))
	if err != nil {
		in.err(problemFrom(file, op, ese.ErrDiskIO, err))
		return nil
	}
	if len(head) < flushMapPageSize || headerType(head, flushMapPageSize) != int(format.FileTypeFlushMap) {
		in.err(note(file, op, ese.ErrReadVerifyFailure, "flush-map header page fails its checksum or is not of file type 7"))
		return nil
	}
	m.HeaderOK = true
	if in.opts.NoVerify {
		return nil
	}
	if size%flushMapPageSize != 0 {
		in.warn(note(file, op, ese.ErrReadVerifyFailure, "file size %d is not a multiple of %d", size, flushMapPageSize))
	}
	if in.chunk == nil {
		in.chunk = make([]byte, 1<<20)
	}
	page := uint32(0)
	for off := int64(flushMapPageSize); off+flushMapPageSize <= size; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(int64(len(in.chunk)), (size-off)/flushMapPageSize*flushMapPageSize)
		b := in.chunk[:n]
		if got, err := r.ReadAt(b, off); got < len(b) {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			in.err(problemFrom(file, op, ese.ErrDiskIO, err))
			return nil
		}
		for ; len(b) >= flushMapPageSize; b = b[flushMapPageSize:] {
			c := format.VerifyPage(b[:flushMapPageSize], page)
			m.PagesTotal++
			switch c.Status {
			case format.PageOK:
				m.PagesOK++
			case format.PageUninitialized:
				m.PagesUninitialized++
			default:
				m.PagesBad++
				if m.PagesBad <= maxPageErrors {
					p := problemFrom(file, op, ese.ErrReadVerifyFailure, c.Err(file, page))
					p.Page = 0 // map pages count from 0; the number is in the message
					p.Message = "map page " + itoa(int64(page)) + ": " + p.Message
					in.err(p)
				}
			}
			page++
		}
		off += n
	}
	return nil
}
