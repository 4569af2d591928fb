package synth

import (
	"time"

	"github.com/esesnap/esesnap/ese/format"
)

// Format versions written, those of a Windows 10 21H1 ESENT (the engine that
// wrote the srum-win10-clean sample): database 0x620,110,240 created as
// 0x620,20; logs 8.4000.60.140.
const (
	dbVersion       = 0x620
	dbUpdateMajor   = 110
	dbUpdateMinor   = 240
	dbCreateUpdate  = 20
	logMajor        = format.LogMajorSegments
	logMinor        = 4000
	logUpdateMajor  = 60
	logUpdateMinor  = 140
	osMajor         = 10
	osMinor         = 0
	osBuild         = 19043
	attachDBID      = 1
	genInterval     = 37 * time.Second // between two log generations
	dbBaseDBTime    = 0x1000           // dbtimes of pages start above this
	extentPages     = 16               // pages per extent; used pages lead each extent
	objidFirstUser  = 2                // objid of MSysObjects; page objids start here
	objidSpread     = 62               // page objids lie in objidFirstUser..objidFirstUser+objidSpread-1
	segmentRecordIB = format.SegmentHeaderSize
)

// fakeRoot is the Windows directory the headers name as the set's location.
// It is fixed so that the bytes do not depend on where a set is written.
const fakeRoot = `C:\ProgramData\esesnap\synth\`

// plan holds what every part of a set is derived from.
type plan struct {
	o               Options
	signDb, signLog format.Signature
}

func newPlan(o Options) *plan {
	p := &plan{o: o}
	r := newRNG(o.Seed, streamSignLog, 0)
	p.signLog = format.Signature{Random: uint32(r.next()), Created: format.LogTimeFrom(o.Time.Add(-time.Minute))}
	r = newRNG(o.Seed, streamSignDb, 0)
	p.signDb = format.Signature{Random: uint32(r.next()), Created: format.LogTimeFrom(o.Time.Add(-time.Minute + time.Second))}
	return p
}

// logCreate returns the tmCreate of generation gen: FirstGen is created at
// o.Time, each later one genInterval plus up to a second after the one
// before. It depends only on the options, so Roll continues the timeline.
func logCreate(o *Options, gen uint32) format.LogTime {
	r := newRNG(o.Seed, streamTime, uint64(gen))
	d := time.Duration(int64(gen)-int64(o.FirstGen))*genInterval + time.Duration(r.intn(1000))*time.Millisecond
	return format.LogTimeFrom(o.Time.Add(d))
}

// dbStats is what writing the data pages tells the header.
type dbStats struct {
	dbtime    uint64 // highest page dbtime
	objidLast uint32 // highest page objid
}

// Positions the database header and the attach lists name.
func (p *plan) attachPos() format.LGPos {
	return format.LGPos{Gen: int32(p.o.FirstGen), ISec: 1, IB: 0x2A}
}

// earlierConsistent is a clean point before the attach: what a dirty
// database keeps in lgposConsistent.
func (p *plan) earlierConsistent() format.LGPos {
	return format.LGPos{Gen: int32(p.o.FirstGen), ISec: 1, IB: 0x10}
}

// cleanConsistent is where a clean database was detached: just after the
// header of the last filled segment of the current log.
func (p *plan) cleanConsistent() format.LGPos {
	n := filledSegments(&p.o, p.o.CurrentGen, p.o.LogSize/format.LogSegmentSize)
	return format.LGPos{Gen: int32(p.o.CurrentGen), ISec: uint16(n), IB: segmentRecordIB}
}

// dbHeader builds the database header.
func (p *plan) dbHeader(st dbStats) *format.DBHeader {
	o := &p.o
	h := &format.DBHeader{
		Magic:         format.DBMagic,
		Version:       dbVersion,
		DBTime:        st.dbtime,
		SignDb:        p.signDb,
		State:         o.State,
		LogtimeAttach: logCreate(o, o.FirstGen),
		LgposAttach:   p.attachPos(),
		DBID:          attachDBID,
		SignLog:       p.signLog,
		ObjidLast:     st.objidLast,
		OSMajor:       osMajor,
		OSMinor:       osMinor,
		OSBuild:       osBuild,
		UpdateMajor:   dbUpdateMajor,
		PageSize:      uint32(o.PageSize),
		CreateVersion: dbVersion,
		CreateUpdate:  dbCreateUpdate,
		UpdateMinor:   dbUpdateMinor,
		FileType:      format.FileTypeDatabase,
	}
	if o.State == format.DBStateCleanShutdown {
		at := p.cleanConsistent()
		tm := format.LogTimeFrom(logCreate(o, o.CurrentGen).Time().Add(time.Second))
		h.LgposConsistent, h.LogtimeConsistent = at, tm
		h.LgposDetach, h.LogtimeDetach = at, tm
		return h
	}
	h.LgposConsistent = p.earlierConsistent()
	h.LogtimeConsistent = logCreate(o, o.FirstGen)
	setRequired(h, o, o.CheckpointGen, o.CurrentGen)
	return h
}

// setRequired makes the dirty header require generations lo..hi, with hi
// both the highest required and the highest committed generation.
func setRequired(h *format.DBHeader, o *Options, lo, hi uint32) {
	h.GenMinRequired = lo
	h.GenMinConsistent = lo
	h.GenMaxRequired = hi
	h.GenMaxCommitted = hi
	h.LogtimeGenMaxRequired = logCreate(o, hi)
	h.LogtimeGenMaxCreate = logCreate(o, hi)
}

// dbmsParam is the engine configuration recorded in logs and checkpoint.
func (p *plan) dbmsParam() format.DBMSParam {
	return format.DBMSParam{
		SystemPath:    fakeRoot,
		LogPath:       fakeRoot,
		SessionsMax:   128,
		OpenTablesMax: 1024,
		VerPagesMax:   1024,
		CursorsMax:    2048,
		LogBuffers:    256,
		LcsecLGFile:   uint32(p.o.LogSize / format.LogSegmentSize),
		CacheSizeMax:  0,
	}
}

// attachInfo describes the database in the attach lists.
func (p *plan) attachInfo(st dbStats) format.AttachInfo {
	return format.AttachInfo{
		DBID:            attachDBID,
		Flags:           format.AttachUnicodeNames,
		DBTime:          st.dbtime,
		ObjidLast:       st.objidLast,
		LgposAttach:     p.attachPos(),
		LgposConsistent: p.earlierConsistent(),
		SignDb:          p.signDb,
		Path:            fakeRoot + p.o.DBName,
	}
}

// logHeader builds the header of generation gen; prevXOR is the XOR of the
// segment checksums of generation gen-1.
func (p *plan) logHeader(gen uint32, attach format.AttachInfo, prevXOR uint64) *format.LogHeader {
	o := &p.o
	h := &format.LogHeader{
		Generation:                 gen,
		CbSec:                      format.LogSegmentSize,
		CsecHeader:                 1,
		CsecLGFile:                 uint16(o.LogSize / format.LogSegmentSize),
		CbPageSize:                 uint16(o.PageSize),
		Create:                     logCreate(o, gen),
		Major:                      logMajor,
		Minor:                      logMinor,
		UpdateMajor:                logUpdateMajor,
		SignLog:                    p.signLog,
		DBMSParam:                  p.dbmsParam(),
		LgposCheckpoint:            format.LGPos{Gen: int32(checkpointAt(gen, o.CheckpointGen)), ISec: 1},
		UpdateMinor:                logUpdateMinor,
		ChecksumPrevLogAllSegments: prevXOR,
		FileType:                   format.LogFileType,
		Attach:                     []format.AttachInfo{attach},
	}
	if gen > 1 {
		h.PrevGen = logCreate(o, gen-1)
	}
	return h
}

// checkpointAt is the checkpoint generation recorded in the header of log
// gen: the previous generation, but never beyond the set's checkpoint.
func checkpointAt(gen, checkpointGen uint32) uint32 {
	c := max(gen, 2) - 1
	return min(c, checkpointGen)
}

// checkpoint builds the checkpoint file. A dirty set keeps the database in
// the attach list; at a clean shutdown ESE clears the list.
func (p *plan) checkpoint(attach format.AttachInfo) *format.Checkpoint {
	c := &format.Checkpoint{
		LgposCheckpoint: format.LGPos{Gen: int32(p.o.CheckpointGen), ISec: 1},
		SignLog:         p.signLog,
		DBMSParam:       p.dbmsParam(),
		FileType:        format.CheckpointFileType,
	}
	if p.o.State == format.DBStateCleanShutdown {
		c.LgposDbConsistency = p.cleanConsistent()
		return c
	}
	c.LgposDbConsistency = p.earlierConsistent()
	c.Version = format.CheckpointAttachPresent
	c.Attach = []format.AttachInfo{attach}
	return c
}
