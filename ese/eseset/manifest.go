package eseset

import "github.com/esesnap/esesnap/backupset"

// Kind is the set format of this package: the key of its manifest section
// (Info) and the kind it registers.
const Kind = "ese"

// Info is the "ese" section of a manifest: what the ESE headers of the streamed files say about the set:
// enough to restore it (base name and log range) and to check that its
// databases and logs belong together (signatures).
type Info struct {
	// PageSize is the database page size.
	PageSize int `json:"page_size"`
	// BaseName is the three-character log base name, such as "edb".
	BaseName string `json:"base_name,omitempty"`
	// GenLow and GenHigh are the lowest and highest log generation in the
	// set; every generation between them is present. Both are 0 when the
	// set holds no logs.
	GenLow  uint32 `json:"gen_low"`
	GenHigh uint32 `json:"gen_high"`
	// SignLog is the signature of the log stream.
	SignLog *SignatureText `json:"sign_log,omitempty"`
	// Databases describes each streamed database.
	Databases []Database `json:"databases,omitempty"`
}

// Database is what the header snapshot at the start of a streamed
// database says.
type Database struct {
	// Name is the database's file name in the set.
	Name string `json:"name"`
	// SignDb is the database's signature.
	SignDb SignatureText `json:"sign_db"`
	// SignLog is the signature of the log stream the database belongs to.
	SignLog SignatureText `json:"sign_log"`
	// BackupGenLow is bkinfoFullCur.genLow of the header snapshot: the
	// first log generation a restore of this copy replays.
	BackupGenLow uint32 `json:"backup_gen_low"`
	// State is the database state the header recorded (e.g. "dirty
	// shutdown"); a live database is dirty in a backup.
	State string `json:"state,omitempty"`
}

// SignatureText is an ESE signature in two forms: Hex, the 28 bytes as ESE
// stores them (lower-case hex), compared exactly; and Text, the random
// number and creation time, for people.
type SignatureText struct {
	Hex  string `json:"hex"`
	Text string `json:"text"`
}

// InfoOf returns the ESE section of m, nil when m describes no ESE set.
func InfoOf(m *backupset.Manifest) *Info {
	info, _ := m.Section(Kind).(*Info)
	return info
}

// Report is what Verify's ESE checks found in a set
// (backupset.VerifyReport.Details of an ESE set).
type Report struct {
	// Databases has one entry per database that passed the ESE checks.
	Databases []DatabaseReport
	// Logs is the number of logs that passed the ESE checks, GenLow and
	// GenHigh their generation range (0 when none).
	Logs            int
	GenLow, GenHigh uint32
}

// DatabaseReport is what the ESE check of one streamed database found.
type DatabaseReport struct {
	Name     string
	PageSize int
	// Pages is the number of data pages; OKPages and Uninitialized split
	// them (a streamed database that passes has no bad pages).
	Pages         uint32
	OKPages       int64
	Uninitialized int64
	// GenLow and GenHigh are the log generations a restore of this copy
	// needs, from its header snapshot and trailer.
	GenLow, GenHigh uint32
}

// ReportOf returns the ESE part of rep, nil when rep is not of an ESE set
// or Verify did not get as far as the ESE checks.
func ReportOf(rep *backupset.VerifyReport) *Report {
	if rep == nil {
		return nil
	}
	r, _ := rep.Details.(*Report)
	return r
}
