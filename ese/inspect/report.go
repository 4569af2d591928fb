package inspect

import (
	"errors"
	"fmt"
	"strings"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

// SchemaVersion is the version of the JSON layout of Report documented in
// the package comment; it changes only when a field is renamed or removed.
const SchemaVersion = 1

// Report is everything Inspect found under one path. See the package
// comment for the JSON schema and for what counts as an error.
type Report struct {
	SchemaVersion int          `json:"schema_version"`
	Path          string       `json:"path"`
	Verified      bool         `json:"verified"` // pages and log bodies were checked (not --no-verify)
	OK            bool         `json:"ok"`       // no errors
	Databases     []Database   `json:"databases"`
	Logs          []Log        `json:"logs"`
	Checkpoints   []Checkpoint `json:"checkpoints"`
	FlushMaps     []FlushMap   `json:"flush_maps"`
	Streams       []Stream     `json:"streams"`
	Others        []Other      `json:"others"`
	Errors        []Problem    `json:"errors"`
	Warnings      []Problem    `json:"warnings"`
}

// newReport returns a report with every array non-nil, so the JSON always
// carries them.
func newReport(path string, verified bool) *Report {
	return &Report{
		SchemaVersion: SchemaVersion,
		Path:          path,
		Verified:      verified,
		Databases:     []Database{},
		Logs:          []Log{},
		Checkpoints:   []Checkpoint{},
		FlushMaps:     []FlushMap{},
		Streams:       []Stream{},
		Others:        []Other{},
		Errors:        []Problem{},
		Warnings:      []Problem{},
	}
}

// HasIOErrors reports whether some error is an I/O failure rather than a
// verdict on the data; the CLI maps that to its own exit code.
func (r *Report) HasIOErrors() bool {
	for _, p := range r.Errors {
		if p.IO {
			return true
		}
	}
	return false
}

// HasVerifyErrors reports whether some error is a verdict on the data (a
// bad page, log, header or chain link).
func (r *Report) HasVerifyErrors() bool {
	for _, p := range r.Errors {
		if !p.IO {
			return true
		}
	}
	return false
}

// Problem is one error or warning: the file, the step, the JET_err ESE
// would raise and, for page failures, the page.
type Problem struct {
	File    string `json:"file"`
	Op      string `json:"op"`
	JetErr  int32  `json:"jet_err"` // JET_err number, e.g. -1018
	Name    string `json:"name"`    // JET_err name, e.g. "JET_errReadVerifyFailure"
	Page    int64  `json:"page"`    // logical page number, 0 when not about a page
	Message string `json:"message"` // the cause, without file, page and code
	IO      bool   `json:"io"`      // an I/O failure, not a verdict on the data
}

// String formats the problem as one line naming file, page and JET_err:
// "SRUDB.dat page 143: JET_errReadVerifyFailure (-1018): block 0: ...".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Page != 0 {
		fmt.Fprintf(&b, " page %d", p.Page)
	}
	b.WriteString(": ")
	if p.Name != "" {
		fmt.Fprintf(&b, "%s (%d)", p.Name, p.JetErr)
	} else {
		b.WriteString(p.Op)
	}
	if p.Message != "" {
		b.WriteString(": ")
		b.WriteString(p.Message)
	}
	return b.String()
}

// problemFrom converts err into a Problem about file. An *ese.Error gives
// its code, op and page; its File is replaced by file so that every line of
// a report names files the same way. Errors without a JET_err take code.
func problemFrom(file, op string, code ese.Code, err error) Problem {
	p := Problem{File: file, Op: op}
	var e *ese.Error
	switch {
	case errors.As(err, &e):
		code = e.Code
		if e.Op != "" {
			p.Op = e.Op
		}
		p.Page = e.Page
		if e.Err != nil {
			p.Message = e.Err.Error()
		}
	case err != nil:
		if c, ok := ese.CodeOf(err); ok && c != 0 {
			code = c
		}
		p.Message = err.Error()
	}
	p.JetErr = int32(code)
	p.Name = code.Name()
	p.IO = code == ese.ErrDiskIO || code == ese.ErrFileNotFound || code == ese.ErrFileAccessDenied
	return p
}

// Pos is a log position in JSON: generation, sector and byte, plus the
// esentutl text form "(gen,isec,ib)" in hex.
type Pos struct {
	Gen  int32  `json:"gen"`
	ISec uint16 `json:"isec"`
	IB   uint16 `json:"ib"`
	Text string `json:"text"`
}

func pos(p format.LGPos) Pos { return Pos{Gen: p.Gen, ISec: p.ISec, IB: p.IB, Text: p.String()} }

// Sig is a SIGNATURE in JSON.
type Sig struct {
	Random   uint32 `json:"random"`
	Created  string `json:"created"`
	Computer string `json:"computer"`
}

func sig(s format.Signature) Sig {
	return Sig{Random: s.Random, Created: s.Created.String(), Computer: cstr(s.Computer[:])}
}

// cstr returns b up to its first NUL.
func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// BK is a BKINFO record in JSON, with its type where the header has one.
type BK struct {
	GenLow   uint32 `json:"gen_low"`
	GenHigh  uint32 `json:"gen_high"`
	Mark     Pos    `json:"mark"`
	MarkTime string `json:"mark_time"`
	Type     uint32 `json:"type"` // 0 normal, 1 OS snapshot (VSS), 2 snapshot, 3 surrogate
}

func bk(b format.BKInfo, t ese.BKInfoType) BK {
	return BK{GenLow: b.GenLow, GenHigh: b.GenHigh, Mark: pos(b.Mark), MarkTime: b.MarkTime.String(), Type: uint32(t)}
}

// Database is the report on one database file (or temp database).
type Database struct {
	File         string `json:"file"`
	Gunzipped    bool   `json:"gunzipped"` // inspected through a temporary gunzipped copy
	Size         int64  `json:"size"`
	FileType     uint32 `json:"file_type"` // header offset 667: 1 database, 5 temp database
	FileTypeName string `json:"file_type_name"`
	Temp         bool   `json:"temp"`
	PageSize     int    `json:"page_size"`
	State        uint32 `json:"state"`
	StateName    string `json:"state_name"`
	Consistent   bool   `json:"consistent"` // CleanShutdown: usable without log replay

	Format            string `json:"format"`              // "0x620,110,240"
	FormatVersion     uint32 `json:"format_version"`      // ulVersion, 0x620
	FormatRevision    uint32 `json:"format_revision"`     // ulDaeUpdateMajor
	FormatUpdateMinor uint32 `json:"format_update_minor"` // ulDaeUpdateMinor
	CreatedFormat     string `json:"created_format"`      // "0x620,20"
	DBTime            uint64 `json:"db_time"`
	DBID              uint32 `json:"dbid"`
	OSVersion         string `json:"os_version"`
	RepairCount       uint32 `json:"repair_count"`

	SignDb  Sig `json:"sign_db"`
	SignLog Sig `json:"sign_log"`

	GenMinRequired         uint32 `json:"gen_min_required"`
	GenMaxRequired         uint32 `json:"gen_max_required"`
	GenMaxCommitted        uint32 `json:"gen_max_committed"`
	GenMinConsistent       uint32 `json:"gen_min_consistent"`
	LogtimeGenMaxRequired  string `json:"logtime_gen_max_required"`
	LogtimeGenMaxCommitted string `json:"logtime_gen_max_committed"`
	LgposConsistent        Pos    `json:"lgpos_consistent"`
	LogtimeConsistent      string `json:"logtime_consistent"`
	LgposAttach            Pos    `json:"lgpos_attach"`
	LogtimeAttach          string `json:"logtime_attach"`
	LgposDetach            Pos    `json:"lgpos_detach"`
	LogtimeDetach          string `json:"logtime_detach"`

	BKInfoFullPrev    BK `json:"bkinfo_full_prev"`
	BKInfoIncPrev     BK `json:"bkinfo_inc_prev"`
	BKInfoDiffPrev    BK `json:"bkinfo_diff_prev"`
	BKInfoCopyPrev    BK `json:"bkinfo_copy_prev"`
	BKInfoFullCur     BK `json:"bkinfo_full_cur"`
	BKInfoSnapshotCur BK `json:"bkinfo_snapshot_cur"`

	HeaderPrimaryOK  bool `json:"header_primary_ok"`
	HeaderShadowOK   bool `json:"header_shadow_ok"`
	HeaderIdentical  bool `json:"header_identical"`
	HeaderUsedShadow bool `json:"header_used_shadow"`

	StreamedCopy bool         `json:"streamed_copy"` // a backup stream: header snapshots, data pages, trailer
	Trailer      *TrailerInfo `json:"trailer"`

	PagesVerified      bool      `json:"pages_verified"`
	PagesTotal         int64     `json:"pages_total"`
	PagesOK            int64     `json:"pages_ok"`
	PagesBad           int64     `json:"pages_bad"`
	PagesUninitialized int64     `json:"pages_uninitialized"`
	BadPages           []BadPage `json:"bad_pages"`
	PageRuns           []PageRun `json:"page_runs,omitempty"`

	// LogStream is the base name of the log stream in the same directory
	// whose signLog equals this database's, "" when none.
	LogStream string `json:"log_stream"`
	// RequiredLogs says whether the generations a dirty database needs for
	// recovery are present next to it.
	RequiredLogs string `json:"required_logs"`

	// Header is the elected header, for callers in Go; not in the JSON.
	Header *format.DBHeader `json:"-"`
}

// TrailerInfo is the decoded trailer page of a streamed backup copy.
type TrailerInfo struct {
	OK              bool   `json:"ok"`
	GenLow          uint32 `json:"gen_low"`
	GenHigh         uint32 `json:"gen_high"`
	Mark            Pos    `json:"mark"`
	GenMinRequired  uint32 `json:"gen_min_required"`
	GenMaxRequired  uint32 `json:"gen_max_required"`
	GenMaxCommitted uint32 `json:"gen_max_committed"`
}

// BadPage describes one page that failed verification.
type BadPage struct {
	Page       uint32 `json:"page"`
	JetErr     int32  `json:"jet_err"`
	Name       string `json:"name"`
	Reason     string `json:"reason"`
	Block      int    `json:"block"`       // first failing checksum block, -1 if none
	Bit        int    `json:"bit"`         // page-relative flipped bit when correctable, else -1
	ActualPgno uint32 `json:"actual_pgno"` // the page belongs here when non-zero
}

// PageRun is a run of consecutive pages with the same status.
type PageRun struct {
	First  uint32 `json:"first"`
	Last   uint32 `json:"last"`
	Status string `json:"status"` // ok, uninitialized, bad
}

// Log roles, from the file name.
const (
	RoleArchived = "archived"
	RoleCurrent  = "current"
	RoleTmp      = "tmp"
	RoleReserve  = "reserve"
	RoleUnnamed  = "unnamed" // a log header in a file whose name is no log name
)

// Log is the report on one transaction log file (or log slot).
type Log struct {
	File      string `json:"file"`
	Gunzipped bool   `json:"gunzipped"`
	Size      int64  `json:"size"`
	Role      string `json:"role"`
	Base      string `json:"base"`
	Empty     bool   `json:"empty"` // all zero bytes: an unused slot
	HeaderOK  bool   `json:"header_ok"`

	Generation      uint32 `json:"generation"`
	Version         string `json:"version"` // "8.4000.60.140"
	CbSec           int    `json:"cb_sec"`
	CsecLGFile      int    `json:"csec_lg_file"`
	PageSize        int    `json:"page_size"`
	Created         string `json:"created"`
	PrevGen         string `json:"prev_gen"`
	SignLog         Sig    `json:"sign_log"`
	LgposCheckpoint Pos    `json:"lgpos_checkpoint"`
	CircularLogging bool   `json:"circular_logging"`

	Verified       bool `json:"verified"` // the body was checked and is good
	SegmentsOK     int  `json:"segments_ok"`
	SegmentsEmpty  int  `json:"segments_empty"`
	SegmentsShadow int  `json:"segments_shadow"`
	LastSegment    int  `json:"last_segment"`
	Records        int  `json:"records"` // LRCHECKSUM records of a v7 log

	Attached []Attached `json:"attached"`

	InChain        bool   `json:"in_chain"`
	Chain          string `json:"chain"`
	ChainErrorCode int32  `json:"chain_error_code"`
	ChainErrorName string `json:"chain_error_name"`

	// Header is the decoded header, for callers in Go; not in the JSON.
	Header *format.LogHeader `json:"-"`
	check  *format.LogCheck
	dir    string
	// linkErr says that the chain error of the log is about the link to
	// its predecessor, not about the log itself.
	linkErr bool
}

// Attached is one ATTACHINFO entry of a log or checkpoint header.
type Attached struct {
	DBID            uint8  `json:"dbid"`
	Path            string `json:"path"`
	SignDb          Sig    `json:"sign_db"`
	LgposAttach     Pos    `json:"lgpos_attach"`
	LgposConsistent Pos    `json:"lgpos_consistent"`
}

func attached(list []format.AttachInfo) []Attached {
	out := make([]Attached, 0, len(list))
	for _, a := range list {
		out = append(out, Attached{DBID: a.DBID, Path: a.Path, SignDb: sig(a.SignDb),
			LgposAttach: pos(a.LgposAttach), LgposConsistent: pos(a.LgposConsistent)})
	}
	return out
}

// Checkpoint is the report on one checkpoint file.
type Checkpoint struct {
	File      string `json:"file"`
	Gunzipped bool   `json:"gunzipped"`
	Size      int64  `json:"size"`
	Base      string `json:"base"`

	Checkpoint               Pos        `json:"checkpoint"` // its generation is where recovery starts
	SignLog                  Sig        `json:"sign_log"`
	LastFullBackupCheckpoint Pos        `json:"last_full_backup_checkpoint"`
	FullBackup               Pos        `json:"full_backup"`
	FullBackupTime           string     `json:"full_backup_time"`
	IncBackup                Pos        `json:"inc_backup"`
	IncBackupTime            string     `json:"inc_backup_time"`
	DbConsistency            Pos        `json:"db_consistency"`
	PrimaryOK                bool       `json:"primary_ok"`
	ShadowOK                 bool       `json:"shadow_ok"`
	LcsecLGFile              uint32     `json:"lcsec_lg_file"`
	AttachPresent            bool       `json:"attach_present"`
	Attached                 []Attached `json:"attached"`
	// Stream says how the checkpoint relates to the log stream of its base
	// name: "ok", "no logs", or what does not match.
	Stream string `json:"stream"`

	// Value is the decoded checkpoint, for callers in Go; not in the JSON.
	Value *format.Checkpoint `json:"-"`
	dir   string
}

// FlushMap is the report on one flush-map file (.jfm).
type FlushMap struct {
	File               string `json:"file"`
	Gunzipped          bool   `json:"gunzipped"`
	Size               int64  `json:"size"`
	HeaderOK           bool   `json:"header_ok"`
	PagesTotal         int64  `json:"pages_total"`
	PagesOK            int64  `json:"pages_ok"`
	PagesBad           int64  `json:"pages_bad"`
	PagesUninitialized int64  `json:"pages_uninitialized"`
}

// Stream is one log stream: the archived and current logs of one base name
// in one directory, in generation order.
type Stream struct {
	Dir            string   `json:"dir"`
	Base           string   `json:"base"`
	FirstGen       uint32   `json:"first_gen"`
	LastGen        uint32   `json:"last_gen"`
	Logs           int      `json:"logs"`
	SignLog        Sig      `json:"sign_log"`
	Chain          string   `json:"chain"` // "ok" or the first fault
	ChainErrorCode int32    `json:"chain_error_code"`
	ChainErrorName string   `json:"chain_error_name"`
	Checkpoint     string   `json:"checkpoint"` // checkpoint file of this base, "" if none
	CheckpointGen  uint32   `json:"checkpoint_gen"`
	Databases      []string `json:"databases"` // database files whose signLog is this stream's

	signLog format.Signature
	hasSign bool
	gens    map[uint32]*Log // verified members by generation
}

// Other is a file that is none of the ESE kinds.
type Other struct {
	File string `json:"file"`
	Size int64  `json:"size"`
	Note string `json:"note"`
}
