package format

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/esesnap/esesnap/ese"
)

// DBMagic is the database header magic at offset 4 (also the checksum seed).
const DBMagic = 0x89ABCDEF

// HeaderSize is the size of the DBFILEHDR structure; the rest of a header
// page is zero.
const HeaderSize = 748

// Offsets of the database header fields (ese-format.md §2.1, DBFILEHDR).
const (
	OffChecksum                    = 0
	OffMagic                       = 4
	OffVersion                     = 8
	OffAttrib                      = 12
	OffDBTime                      = 16
	OffSignDb                      = 24
	OffDBState                     = 52
	OffLgposConsistent             = 56
	OffLogtimeConsistent           = 64
	OffLogtimeAttach               = 72
	OffLgposAttach                 = 80
	OffLogtimeDetach               = 88
	OffLgposDetach                 = 96
	OffDBID                        = 104
	OffSignLog                     = 108
	OffBKInfoFullPrev              = 136
	OffBKInfoIncPrev               = 160
	OffBKInfoFullCur               = 184
	OffFlags                       = 208
	OffObjidLast                   = 212
	OffOSMajor                     = 216
	OffOSMinor                     = 220
	OffOSBuild                     = 224
	OffOSSP                        = 228
	OffUpdateMajor                 = 232
	OffPageSize                    = 236
	OffRepairCount                 = 240
	OffLogtimeRepair               = 244
	OffSignSLV                     = 252
	OffDBTimeLastScrub             = 280
	OffLogtimeScrub                = 288
	OffGenMinRequired              = 296
	OffGenMaxRequired              = 300
	OffCpgUpgrade55Format          = 304
	OffCpgUpgradeFreePages         = 308
	OffCpgUpgradeSpaceMapPages     = 312
	OffBKInfoSnapshotCur           = 316
	OffCreateVersion               = 340
	OffCreateUpdate                = 344
	OffLogtimeGenMaxCreate         = 348
	OffBKInfoTypeFullPrev          = 356
	OffBKInfoTypeIncPrev           = 360
	OffRepairCountOld              = 364
	OffECCFixSuccess               = 368
	OffLogtimeECCFixSuccess        = 372
	OffECCFixSuccessOld            = 380
	OffECCFixFail                  = 384
	OffLogtimeECCFixFail           = 388
	OffECCFixFailOld               = 396
	OffBadChecksum                 = 400
	OffLogtimeBadChecksum          = 404
	OffBadChecksumOld              = 412
	OffGenMaxCommitted             = 416
	OffBKInfoCopyPrev              = 420
	OffBKInfoDiffPrev              = 444
	OffBKInfoTypeCopyPrev          = 468
	OffBKInfoTypeDiffPrev          = 472
	OffIncReseedCount              = 476
	OffLogtimeIncReseed            = 480
	OffIncReseedCountOld           = 488
	OffPagePatchCount              = 492
	OffLogtimePagePatch            = 496
	OffPagePatchCountOld           = 504
	OffSortVersion                 = 508
	OffLogtimeDbscanPrev           = 516
	OffLogtimeDbscanStart          = 524
	OffPgnoDbscanHighestContinuous = 532
	OffGenRecovering               = 536
	OffExtendCount                 = 540
	OffLogtimeLastExtend           = 544
	OffShrinkCount                 = 552
	OffLogtimeLastShrink           = 556
	OffLogtimeLastReAttach         = 564
	OffLgposLastReAttach           = 572
	OffTrimCount                   = 580
	OffSignDbHdrFlush              = 584
	OffSignFlushMapHdrFlush        = 612
	OffGenMinConsistent            = 640
	OffUpdateMinor                 = 644
	OffEfvMaxBinAttachDiagnostic   = 648
	OffPgnoDbscanHighest           = 652
	OffLgposLastResize             = 656
	OffFileType                    = 667 // unaligned, same place in log and checkpoint headers
	OffLogtimeGenMaxRequired       = 672
	OffGenPreRedoMinConsistent     = 680
	OffGenPreRedoMinRequired       = 684
	OffSignRBSHdrFlush             = 688
	OffRevertCount                 = 716
	OffLogtimeRevertFrom           = 720
	OffLogtimeRevertTo             = 728
	OffRevertPageCount             = 736
	OffLgposCommitBeforeRevert     = 740
)

// DBState is the database state at offset 52; it alone decides whether a
// database file is consistent.
type DBState uint32

// Database states as ESE numbers them.
const (
	DBStateJustCreated                 DBState = 1
	DBStateDirtyShutdown               DBState = 2
	DBStateCleanShutdown               DBState = 3
	DBStateBeingConverted              DBState = 4
	DBStateForceDetach                 DBState = 5
	DBStateIncrementalReseedInProgress DBState = 6
	DBStateDirtyAndPatchedShutdown     DBState = 7
	DBStateRevertInProgress            DBState = 8
)

var dbStateNames = [...]string{
	DBStateJustCreated:                 "JustCreated",
	DBStateDirtyShutdown:               "DirtyShutdown",
	DBStateCleanShutdown:               "CleanShutdown",
	DBStateBeingConverted:              "BeingConverted",
	DBStateForceDetach:                 "ForceDetach",
	DBStateIncrementalReseedInProgress: "IncrementalReseedInProgress",
	DBStateDirtyAndPatchedShutdown:     "DirtyAndPatchedShutdown",
	DBStateRevertInProgress:            "RevertInProgress",
}

// String returns ESE's name for the state, e.g. "CleanShutdown".
func (s DBState) String() string {
	if s >= DBStateJustCreated && int(s) < len(dbStateNames) {
		return dbStateNames[s]
	}
	return fmt.Sprintf("DBState(%d)", uint32(s))
}

// Consistent reports whether the database can be used without log replay;
// only CleanShutdown qualifies (§7).
func (s DBState) Consistent() bool { return s == DBStateCleanShutdown }

// FileType is the JET_filetype stored at offset 667 of database, log,
// checkpoint and flush-map headers.
type FileType uint32

// File types as ESE numbers them.
const (
	FileTypeUnknown       FileType = 0
	FileTypeDatabase      FileType = 1
	FileTypeStreamingFile FileType = 2 // obsolete SLV file
	FileTypeLog           FileType = 3
	FileTypeCheckpoint    FileType = 4
	FileTypeTempDatabase  FileType = 5
	FileTypeFlushMap      FileType = 7
)

// String names the file type, e.g. "database" or "flush map".
func (t FileType) String() string {
	switch t {
	case FileTypeUnknown:
		return "unknown"
	case FileTypeDatabase:
		return "database"
	case FileTypeStreamingFile:
		return "streaming file"
	case FileTypeLog:
		return "log"
	case FileTypeCheckpoint:
		return "checkpoint"
	case FileTypeTempDatabase:
		return "temp database"
	case FileTypeFlushMap:
		return "flush map"
	}
	return fmt.Sprintf("FileType(%d)", uint32(t))
}

// DBHeader is the decoded database header (DBFILEHDR, §2.1). Every field ESE
// defines is kept so that Encode reproduces the header byte for byte.
// Generations are unsigned, like BKInfo and log names.
type DBHeader struct {
	Checksum          uint32 // stored header checksum, not verified by ParseDBHeader
	Magic             uint32 // DBMagic
	Version           uint32 // ulVersion, 0x620 for all modern ESE
	Attrib            uint32 // 0 database, 1 obsolete SLV file
	DBTime            uint64 // dbtimeDirtied
	SignDb            Signature
	State             DBState
	LgposConsistent   LGPos
	LogtimeConsistent LogTime
	LogtimeAttach     LogTime
	LgposAttach       LGPos
	LogtimeDetach     LogTime
	LgposDetach       LGPos
	DBID              uint32
	SignLog           Signature // must match the log stream and checkpoint
	BKInfoFullPrev    BKInfo    // last successful full backup
	BKInfoIncPrev     BKInfo    // last incremental backup
	BKInfoFullCur     BKInfo    // backup in progress / restored copy
	Flags             uint32
	ObjidLast         uint32
	OSMajor           uint32
	OSMinor           uint32
	OSBuild           uint32
	OSSP              uint32
	UpdateMajor       uint32 // ulDaeUpdateMajor, the format revision
	PageSize          uint32 // raw cbPageSize field; 0 means 4096, see CbPage
	RepairCount       uint32
	LogtimeRepair     LogTime
	SignSLV           Signature // obsolete, kept for round trips
	DBTimeLastScrub   uint64
	LogtimeScrub      LogTime
	GenMinRequired    uint32 // lowest log generation needed for replay
	GenMaxRequired    uint32 // highest generation with unflushed changes

	CpgUpgrade55Format      uint32
	CpgUpgradeFreePages     uint32
	CpgUpgradeSpaceMapPages uint32

	BKInfoSnapshotCur   BKInfo // VSS snapshot backup in progress
	CreateVersion       uint32
	CreateUpdate        uint32
	LogtimeGenMaxCreate LogTime // creation time of log GenMaxCommitted
	BKInfoTypeFullPrev  ese.BKInfoType
	BKInfoTypeIncPrev   ese.BKInfoType

	RepairCountOld       uint32
	ECCFixSuccess        uint32
	LogtimeECCFixSuccess LogTime
	ECCFixSuccessOld     uint32
	ECCFixFail           uint32
	LogtimeECCFixFail    LogTime
	ECCFixFailOld        uint32
	BadChecksum          uint32
	LogtimeBadChecksum   LogTime
	BadChecksumOld       uint32

	GenMaxCommitted    uint32 // last generation with committed records for this DB
	BKInfoCopyPrev     BKInfo // last copy backup
	BKInfoDiffPrev     BKInfo // last differential backup
	BKInfoTypeCopyPrev ese.BKInfoType
	BKInfoTypeDiffPrev ese.BKInfoType

	IncReseedCount    uint32
	LogtimeIncReseed  LogTime
	IncReseedCountOld uint32
	PagePatchCount    uint32
	LogtimePagePatch  LogTime
	PagePatchCountOld uint32

	SortVersion                 uint64
	LogtimeDbscanPrev           LogTime
	LogtimeDbscanStart          LogTime
	PgnoDbscanHighestContinuous uint32
	GenRecovering               uint32

	ExtendCount         uint32
	LogtimeLastExtend   LogTime
	ShrinkCount         uint32
	LogtimeLastShrink   LogTime
	LogtimeLastReAttach LogTime
	LgposLastReAttach   LGPos
	TrimCount           uint32

	SignDbHdrFlush            Signature
	SignFlushMapHdrFlush      Signature // must match the .jfm flush map
	GenMinConsistent          uint32
	UpdateMinor               uint32 // ulDaeUpdateMinor
	EfvMaxBinAttachDiagnostic uint32
	PgnoDbscanHighest         uint32
	LgposLastResize           LGPos
	FileType                  FileType
	LogtimeGenMaxRequired     LogTime // creation time of log GenMaxRequired (newer formats)
	GenPreRedoMinConsistent   uint32
	GenPreRedoMinRequired     uint32
	SignRBSHdrFlush           Signature

	RevertCount             uint32
	LogtimeRevertFrom       LogTime
	LogtimeRevertTo         LogTime
	RevertPageCount         uint32
	LgposCommitBeforeRevert LGPos
}

// CbPage returns the page size in bytes; a zero field means 4096.
func (h *DBHeader) CbPage() int {
	if h.PageSize == 0 {
		return 4096
	}
	return int(h.PageSize)
}

// FormatString prints the format like the inventory and esentutl:
// "0x620,110,240" (version, update major, update minor).
func (h *DBHeader) FormatString() string {
	return fmt.Sprintf("%#x,%d,%d", h.Version, h.UpdateMajor, h.UpdateMinor)
}

func logTimeAt(b []byte, off int) LogTime {
	var t LogTime
	copy(t[:], b[off:off+8])
	return t
}

// ParseDBHeader decodes a database header from page, which must hold at
// least HeaderSize bytes and carry DBMagic. The checksum is not verified
// (see ReadDBHeader and HeaderChecksum).
func ParseDBHeader(page []byte) (*DBHeader, error) {
	if len(page) < HeaderSize {
		return nil, &ese.Error{Code: ese.ErrDatabaseCorrupted, Op: "parse database header",
			Err: fmt.Errorf("header is %d bytes, need %d", len(page), HeaderSize)}
	}
	b := page[:HeaderSize]
	u32 := func(off int) uint32 { return le.Uint32(b[off:]) }
	if m := u32(OffMagic); m != DBMagic {
		return nil, &ese.Error{Code: ese.ErrDatabaseCorrupted, Op: "parse database header",
			Err: fmt.Errorf("bad magic %#08x, want %#08x", m, uint32(DBMagic))}
	}
	lt := func(off int) LogTime { return logTimeAt(b, off) }
	lg := func(off int) LGPos { return ParseLGPos(b[off : off+8]) }
	sg := func(off int) Signature { return ParseSignature(b[off : off+SignatureSize]) }
	bk := func(off int) BKInfo { return ParseBKInfo(b[off : off+BKInfoSize]) }
	bt := func(off int) ese.BKInfoType { return ese.BKInfoType(u32(off)) }

	h := &DBHeader{
		Checksum:          u32(OffChecksum),
		Magic:             u32(OffMagic),
		Version:           u32(OffVersion),
		Attrib:            u32(OffAttrib),
		DBTime:            le.Uint64(b[OffDBTime:]),
		SignDb:            sg(OffSignDb),
		State:             DBState(u32(OffDBState)),
		LgposConsistent:   lg(OffLgposConsistent),
		LogtimeConsistent: lt(OffLogtimeConsistent),
		LogtimeAttach:     lt(OffLogtimeAttach),
		LgposAttach:       lg(OffLgposAttach),
		LogtimeDetach:     lt(OffLogtimeDetach),
		LgposDetach:       lg(OffLgposDetach),
		DBID:              u32(OffDBID),
		SignLog:           sg(OffSignLog),
		BKInfoFullPrev:    bk(OffBKInfoFullPrev),
		BKInfoIncPrev:     bk(OffBKInfoIncPrev),
		BKInfoFullCur:     bk(OffBKInfoFullCur),
		Flags:             u32(OffFlags),
		ObjidLast:         u32(OffObjidLast),
		OSMajor:           u32(OffOSMajor),
		OSMinor:           u32(OffOSMinor),
		OSBuild:           u32(OffOSBuild),
		OSSP:              u32(OffOSSP),
		UpdateMajor:       u32(OffUpdateMajor),
		PageSize:          u32(OffPageSize),
		RepairCount:       u32(OffRepairCount),
		LogtimeRepair:     lt(OffLogtimeRepair),
		SignSLV:           sg(OffSignSLV),
		DBTimeLastScrub:   le.Uint64(b[OffDBTimeLastScrub:]),
		LogtimeScrub:      lt(OffLogtimeScrub),
		GenMinRequired:    u32(OffGenMinRequired),
		GenMaxRequired:    u32(OffGenMaxRequired),

		CpgUpgrade55Format:      u32(OffCpgUpgrade55Format),
		CpgUpgradeFreePages:     u32(OffCpgUpgradeFreePages),
		CpgUpgradeSpaceMapPages: u32(OffCpgUpgradeSpaceMapPages),

		BKInfoSnapshotCur:   bk(OffBKInfoSnapshotCur),
		CreateVersion:       u32(OffCreateVersion),
		CreateUpdate:        u32(OffCreateUpdate),
		LogtimeGenMaxCreate: lt(OffLogtimeGenMaxCreate),
		BKInfoTypeFullPrev:  bt(OffBKInfoTypeFullPrev),
		BKInfoTypeIncPrev:   bt(OffBKInfoTypeIncPrev),

		RepairCountOld:       u32(OffRepairCountOld),
		ECCFixSuccess:        u32(OffECCFixSuccess),
		LogtimeECCFixSuccess: lt(OffLogtimeECCFixSuccess),
		ECCFixSuccessOld:     u32(OffECCFixSuccessOld),
		ECCFixFail:           u32(OffECCFixFail),
		LogtimeECCFixFail:    lt(OffLogtimeECCFixFail),
		ECCFixFailOld:        u32(OffECCFixFailOld),
		BadChecksum:          u32(OffBadChecksum),
		LogtimeBadChecksum:   lt(OffLogtimeBadChecksum),
		BadChecksumOld:       u32(OffBadChecksumOld),

		GenMaxCommitted:    u32(OffGenMaxCommitted),
		BKInfoCopyPrev:     bk(OffBKInfoCopyPrev),
		BKInfoDiffPrev:     bk(OffBKInfoDiffPrev),
		BKInfoTypeCopyPrev: bt(OffBKInfoTypeCopyPrev),
		BKInfoTypeDiffPrev: bt(OffBKInfoTypeDiffPrev),

		IncReseedCount:    u32(OffIncReseedCount),
		LogtimeIncReseed:  lt(OffLogtimeIncReseed),
		IncReseedCountOld: u32(OffIncReseedCountOld),
		PagePatchCount:    u32(OffPagePatchCount),
		LogtimePagePatch:  lt(OffLogtimePagePatch),
		PagePatchCountOld: u32(OffPagePatchCountOld),

		SortVersion:                 le.Uint64(b[OffSortVersion:]),
		LogtimeDbscanPrev:           lt(OffLogtimeDbscanPrev),
		LogtimeDbscanStart:          lt(OffLogtimeDbscanStart),
		PgnoDbscanHighestContinuous: u32(OffPgnoDbscanHighestContinuous),
		GenRecovering:               u32(OffGenRecovering),

		ExtendCount:         u32(OffExtendCount),
		LogtimeLastExtend:   lt(OffLogtimeLastExtend),
		ShrinkCount:         u32(OffShrinkCount),
		LogtimeLastShrink:   lt(OffLogtimeLastShrink),
		LogtimeLastReAttach: lt(OffLogtimeLastReAttach),
		LgposLastReAttach:   lg(OffLgposLastReAttach),
		TrimCount:           u32(OffTrimCount),

		SignDbHdrFlush:            sg(OffSignDbHdrFlush),
		SignFlushMapHdrFlush:      sg(OffSignFlushMapHdrFlush),
		GenMinConsistent:          u32(OffGenMinConsistent),
		UpdateMinor:               u32(OffUpdateMinor),
		EfvMaxBinAttachDiagnostic: u32(OffEfvMaxBinAttachDiagnostic),
		PgnoDbscanHighest:         u32(OffPgnoDbscanHighest),
		LgposLastResize:           lg(OffLgposLastResize),
		FileType:                  FileType(u32(OffFileType)),
		LogtimeGenMaxRequired:     lt(OffLogtimeGenMaxRequired),
		GenPreRedoMinConsistent:   u32(OffGenPreRedoMinConsistent),
		GenPreRedoMinRequired:     u32(OffGenPreRedoMinRequired),
		SignRBSHdrFlush:           sg(OffSignRBSHdrFlush),

		RevertCount:             u32(OffRevertCount),
		LogtimeRevertFrom:       lt(OffLogtimeRevertFrom),
		LogtimeRevertTo:         lt(OffLogtimeRevertTo),
		RevertPageCount:         u32(OffRevertPageCount),
		LgposCommitBeforeRevert: lg(OffLgposCommitBeforeRevert),
	}
	return h, nil
}

// Encode writes every field of h at its offset in page, leaving the bytes no
// field covers (the reserved ones and everything after HeaderSize)
// untouched, so ParseDBHeader(page) returns h again. The checksum field is
// written as stored in h; call SetHeaderChecksum afterwards to make the page
// valid. A page shorter than HeaderSize is left unchanged.
func (h *DBHeader) Encode(page []byte) {
	if len(page) < HeaderSize {
		return
	}
	b := page[:HeaderSize]
	u32 := func(off int, v uint32) { le.PutUint32(b[off:], v) }
	lt := func(off int, t LogTime) { copy(b[off:off+8], t[:]) }
	lg := func(off int, p LGPos) { p.Put(b[off : off+8]) }
	sg := func(off int, s Signature) { s.Put(b[off : off+SignatureSize]) }
	bk := func(off int, v BKInfo) { v.Put(b[off : off+BKInfoSize]) }

	u32(OffChecksum, h.Checksum)
	u32(OffMagic, h.Magic)
	u32(OffVersion, h.Version)
	u32(OffAttrib, h.Attrib)
	le.PutUint64(b[OffDBTime:], h.DBTime)
	sg(OffSignDb, h.SignDb)
	u32(OffDBState, uint32(h.State))
	lg(OffLgposConsistent, h.LgposConsistent)
	lt(OffLogtimeConsistent, h.LogtimeConsistent)
	lt(OffLogtimeAttach, h.LogtimeAttach)
	lg(OffLgposAttach, h.LgposAttach)
	lt(OffLogtimeDetach, h.LogtimeDetach)
	lg(OffLgposDetach, h.LgposDetach)
	u32(OffDBID, h.DBID)
	sg(OffSignLog, h.SignLog)
	bk(OffBKInfoFullPrev, h.BKInfoFullPrev)
	bk(OffBKInfoIncPrev, h.BKInfoIncPrev)
	bk(OffBKInfoFullCur, h.BKInfoFullCur)
	u32(OffFlags, h.Flags)
	u32(OffObjidLast, h.ObjidLast)
	u32(OffOSMajor, h.OSMajor)
	u32(OffOSMinor, h.OSMinor)
	u32(OffOSBuild, h.OSBuild)
	u32(OffOSSP, h.OSSP)
	u32(OffUpdateMajor, h.UpdateMajor)
	u32(OffPageSize, h.PageSize)
	u32(OffRepairCount, h.RepairCount)
	lt(OffLogtimeRepair, h.LogtimeRepair)
	sg(OffSignSLV, h.SignSLV)
	le.PutUint64(b[OffDBTimeLastScrub:], h.DBTimeLastScrub)
	lt(OffLogtimeScrub, h.LogtimeScrub)
	u32(OffGenMinRequired, h.GenMinRequired)
	u32(OffGenMaxRequired, h.GenMaxRequired)

	u32(OffCpgUpgrade55Format, h.CpgUpgrade55Format)
	u32(OffCpgUpgradeFreePages, h.CpgUpgradeFreePages)
	u32(OffCpgUpgradeSpaceMapPages, h.CpgUpgradeSpaceMapPages)

	bk(OffBKInfoSnapshotCur, h.BKInfoSnapshotCur)
	u32(OffCreateVersion, h.CreateVersion)
	u32(OffCreateUpdate, h.CreateUpdate)
	lt(OffLogtimeGenMaxCreate, h.LogtimeGenMaxCreate)
	u32(OffBKInfoTypeFullPrev, uint32(h.BKInfoTypeFullPrev))
	u32(OffBKInfoTypeIncPrev, uint32(h.BKInfoTypeIncPrev))

	u32(OffRepairCountOld, h.RepairCountOld)
	u32(OffECCFixSuccess, h.ECCFixSuccess)
	lt(OffLogtimeECCFixSuccess, h.LogtimeECCFixSuccess)
	u32(OffECCFixSuccessOld, h.ECCFixSuccessOld)
	u32(OffECCFixFail, h.ECCFixFail)
	lt(OffLogtimeECCFixFail, h.LogtimeECCFixFail)
	u32(OffECCFixFailOld, h.ECCFixFailOld)
	u32(OffBadChecksum, h.BadChecksum)
	lt(OffLogtimeBadChecksum, h.LogtimeBadChecksum)
	u32(OffBadChecksumOld, h.BadChecksumOld)

	u32(OffGenMaxCommitted, h.GenMaxCommitted)
	bk(OffBKInfoCopyPrev, h.BKInfoCopyPrev)
	bk(OffBKInfoDiffPrev, h.BKInfoDiffPrev)
	u32(OffBKInfoTypeCopyPrev, uint32(h.BKInfoTypeCopyPrev))
	u32(OffBKInfoTypeDiffPrev, uint32(h.BKInfoTypeDiffPrev))

	u32(OffIncReseedCount, h.IncReseedCount)
	lt(OffLogtimeIncReseed, h.LogtimeIncReseed)
	u32(OffIncReseedCountOld, h.IncReseedCountOld)
	u32(OffPagePatchCount, h.PagePatchCount)
	lt(OffLogtimePagePatch, h.LogtimePagePatch)
	u32(OffPagePatchCountOld, h.PagePatchCountOld)

	le.PutUint64(b[OffSortVersion:], h.SortVersion)
	lt(OffLogtimeDbscanPrev, h.LogtimeDbscanPrev)
	lt(OffLogtimeDbscanStart, h.LogtimeDbscanStart)
	u32(OffPgnoDbscanHighestContinuous, h.PgnoDbscanHighestContinuous)
	u32(OffGenRecovering, h.GenRecovering)

	u32(OffExtendCount, h.ExtendCount)
	lt(OffLogtimeLastExtend, h.LogtimeLastExtend)
	u32(OffShrinkCount, h.ShrinkCount)
	lt(OffLogtimeLastShrink, h.LogtimeLastShrink)
	lt(OffLogtimeLastReAttach, h.LogtimeLastReAttach)
	lg(OffLgposLastReAttach, h.LgposLastReAttach)
	u32(OffTrimCount, h.TrimCount)

	sg(OffSignDbHdrFlush, h.SignDbHdrFlush)
	sg(OffSignFlushMapHdrFlush, h.SignFlushMapHdrFlush)
	u32(OffGenMinConsistent, h.GenMinConsistent)
	u32(OffUpdateMinor, h.UpdateMinor)
	u32(OffEfvMaxBinAttachDiagnostic, h.EfvMaxBinAttachDiagnostic)
	u32(OffPgnoDbscanHighest, h.PgnoDbscanHighest)
	lg(OffLgposLastResize, h.LgposLastResize)
	u32(OffFileType, uint32(h.FileType))
	lt(OffLogtimeGenMaxRequired, h.LogtimeGenMaxRequired)
	u32(OffGenPreRedoMinConsistent, h.GenPreRedoMinConsistent)
	u32(OffGenPreRedoMinRequired, h.GenPreRedoMinRequired)
	sg(OffSignRBSHdrFlush, h.SignRBSHdrFlush)

	u32(OffRevertCount, h.RevertCount)
	lt(OffLogtimeRevertFrom, h.LogtimeRevertFrom)
	lt(OffLogtimeRevertTo, h.LogtimeRevertTo)
	u32(OffRevertPageCount, h.RevertPageCount)
	lg(OffLgposCommitBeforeRevert, h.LgposCommitBeforeRevert)
}

// PutBKInfo encodes bk at offset off of page (one of the OffBKInfo*
// offsets); it does nothing when the record would not fit.
func PutBKInfo(page []byte, off int, bk BKInfo) {
	if off < 0 || off > len(page)-BKInfoSize {
		return
	}
	bk.Put(page[off : off+BKInfoSize])
}

// HeaderRead is the result of ReadDBHeader: the elected header copy and how
// the primary (file page 0) and shadow (file page 1) copies compared.
type HeaderRead struct {
	Header     *DBHeader
	Page       []byte // the elected copy, PageSize bytes, owned by the caller
	PageSize   int
	PrimaryOK  bool // the primary copy checksums and has the right page size
	ShadowOK   bool // the shadow copy checksums and has the right page size
	Identical  bool // both copies are valid and byte-identical
	UsedShadow bool // the primary was bad, so the shadow was elected
}

// headerCopyOK reports whether b (one candidate header page of len(b)
// bytes) is a valid header copy for that page size.
func headerCopyOK(b []byte) bool {
	if len(b) < HeaderSize || le.Uint32(b[OffMagic:]) != DBMagic {
		return false
	}
	ps := int(le.Uint32(b[OffPageSize:]))
	if ps == 0 {
		ps = 4096
	}
	return ps == len(b) && HeaderChecksum(b) == le.Uint32(b[OffChecksum:])
}

// ReadDBHeader reads and elects the database header of a file of size bytes.
// It finds the page size as ESE does (a candidate size is accepted when a
// header copy of that size checksums and names that size; the size field of
// the primary is tried first, then 2 KiB..32 KiB), then elects the primary
// copy when it is valid and the shadow otherwise (§2). Errors are
// *ese.Error: JET_errDatabaseCorrupted when the file is not an ESE database,
// JET_errReadVerifyFailure when both copies are bad, JET_errDiskIO for I/O
// failures.
func ReadDBHeader(r io.ReaderAt, size int64, name string) (*HeaderRead, error) {
	const op = "read database header"
	if size < HeaderSize {
		return nil, &ese.Error{Code: ese.ErrDatabaseCorrupted, Op: op, File: name,
			Err: fmt.Errorf("file is %d bytes, too small for a database header", size)}
	}
	n := int64(2 * MaxPageSize)
	if size < n {
		n = size
	}
	buf := make([]byte, n)
	if got, err := r.ReadAt(buf, 0); got < len(buf) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, &ese.Error{Code: ese.ErrDiskIO, Op: op, File: name,
			Err: fmt.Errorf("read header pages: %w", err)}
	}

	var cands [6]int
	nc := 0
	if le.Uint32(buf[OffMagic:]) == DBMagic {
		ps := int(le.Uint32(buf[OffPageSize:]))
		if ps == 0 {
			ps = 4096
		}
		if ValidPageSize(ps) {
			cands[nc] = ps
			nc++
		}
	}
	for ps := MinPageSize; ps <= MaxPageSize; ps *= 2 {
		if nc == 0 || ps != cands[0] {
			cands[nc] = ps
			nc++
		}
	}

	magicSeen := false
	for _, ps := range cands[:nc] {
		var primary, shadow []byte
		if len(buf) >= ps {
			primary = buf[:ps]
		}
		if len(buf) >= 2*ps {
			shadow = buf[ps : 2*ps]
		}
		if (primary != nil && le.Uint32(primary[OffMagic:]) == DBMagic) ||
			(shadow != nil && le.Uint32(shadow[OffMagic:]) == DBMagic) {
			magicSeen = true
		}
		pOK := primary != nil && headerCopyOK(primary)
		sOK := shadow != nil && headerCopyOK(shadow)
		if !pOK && !sOK {
			continue
		}
		hr := &HeaderRead{PageSize: ps, PrimaryOK: pOK, ShadowOK: sOK,
			Identical: pOK && sOK && bytes.Equal(primary, shadow)}
		elected := primary
		if !pOK {
			elected, hr.UsedShadow = shadow, true
		}
		hr.Page = append([]byte(nil), elected...)
		h, err := ParseDBHeader(hr.Page)
		if err != nil { // cannot happen: headerCopyOK checked size and magic
			return nil, &ese.Error{Code: ese.ErrDatabaseCorrupted, Op: op, File: name, Err: err}
		}
		hr.Header = h
		return hr, nil
	}
	if !magicSeen {
		return nil, &ese.Error{Code: ese.ErrDatabaseCorrupted, Op: op, File: name,
			Err: errors.New("no ESE database header magic in the first two pages")}
	}
	return nil, &ese.Error{Code: ese.ErrReadVerifyFailure, Op: op, File: name,
		Err: errors.New("primary and shadow header copies both fail their checksum")}
}
