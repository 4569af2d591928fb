package format

import (
	"fmt"
	"strings"
)

// LogFileKind says what role a file plays in a log directory, judged by its
// name alone (ese-format.md §5.1).
type LogFileKind uint8

const (
	// LogNotLog is a name that belongs to no log stream.
	LogNotLog LogFileKind = iota
	// LogArchived is a rolled log whose generation is in its name: <base>0000D.log.
	LogArchived
	// LogCurrent is the log being written, <base>.log; its generation is only in its header.
	LogCurrent
	// LogTmp is the next log being pre-formatted, <base>tmp.log; never part of the chain.
	LogTmp
	// LogReserve is a reserve log kept for a clean shutdown on a full disk
	// (<base>res00001.jrs, or res1.log before Vista); never part of the chain.
	LogReserve
	// LogCheckpoint is the checkpoint file, <base>.chk or <base>.jcp.
	LogCheckpoint
)

var logFileKindNames = [...]string{"not a log", "archived log", "current log", "tmp log", "reserve log", "checkpoint"}

// String names the kind for messages.
func (k LogFileKind) String() string {
	if int(k) < len(logFileKindNames) {
		return logFileKindNames[k]
	}
	return fmt.Sprintf("LogFileKind(%d)", uint8(k))
}

// LogName is a parsed log-directory file name.
type LogName struct {
	Base   string      // the 3-character base name as spelled in the file name ("" for res1.log)
	Gen    uint32      // generation of an archived log, or the number of a reserve log; 0 otherwise
	Ext    string      // lower-case extension with its dot: ".log", ".jtx", ".jrs", ".chk" or ".jcp"
	Kind   LogFileKind // role of the file
	Digits int         // number of digits in the name (5 or 8 for archived logs, the reserve number's width)
}

// baseNameLen is the length ESE requires of JET_paramBaseName.
const baseNameLen = 3

// ParseLogName classifies a file name (no directory) of a log directory,
// taking its first three characters as the base name. Names are compared
// case-insensitively, as Windows does. ok is false for names that are not
// logs, reserve logs or checkpoints.
func ParseLogName(name string) (LogName, bool) {
	if ln, ok := parseOldReserve(name); ok {
		return ln, true
	}
	if len(name) < baseNameLen {
		return LogName{}, false
	}
	return parseLogName(name, name[:baseNameLen])
}

// ParseLogNameBase is ParseLogName for a known base name: the name must start
// with base (compared case-insensitively) unless it is an old-style reserve
// log (res1.log), which carries no base.
func ParseLogNameBase(name, base string) (LogName, bool) {
	if ln, ok := parseOldReserve(name); ok {
		return ln, true
	}
	if len(base) != baseNameLen || len(name) < baseNameLen || !strings.EqualFold(name[:baseNameLen], base) {
		return LogName{}, false
	}
	return parseLogName(name, name[:baseNameLen])
}

// parseLogName classifies name whose first three bytes are base.
func parseLogName(name, base string) (LogName, bool) {
	if !validBaseName(base) {
		return LogName{}, false
	}
	dot := strings.LastIndexByte(name, '.')
	if dot < baseNameLen {
		return LogName{}, false
	}
	ext := strings.ToLower(name[dot:])
	mid := name[baseNameLen:dot]
	ln := LogName{Base: base, Ext: ext}
	switch ext {
	case ".log", ".jtx":
		switch {
		case mid == "":
			ln.Kind = LogCurrent
		case strings.EqualFold(mid, "tmp"):
			ln.Kind = LogTmp
		case len(mid) == 5 || len(mid) == 8:
			gen, ok := parseHex(mid)
			if !ok {
				return LogName{}, false
			}
			ln.Kind, ln.Gen, ln.Digits = LogArchived, gen, len(mid)
		default:
			return LogName{}, false
		}
	case ".jrs":
		if len(mid) != 8 || !strings.EqualFold(mid[:3], "res") {
			return LogName{}, false
		}
		n, ok := parseDecimal(mid[3:])
		if !ok {
			return LogName{}, false
		}
		ln.Kind, ln.Gen, ln.Digits = LogReserve, n, 5
	case ".chk", ".jcp":
		if mid != "" {
			return LogName{}, false
		}
		ln.Kind = LogCheckpoint
	default:
		return LogName{}, false
	}
	return ln, true
}

// parseOldReserve recognises the reserve logs of Windows Server 2003 and
// older, res1.log and res2.log, which have no base name.
func parseOldReserve(name string) (LogName, bool) {
	if len(name) != len("res1.log") || !strings.EqualFold(name[:3], "res") || !strings.EqualFold(name[len(name)-4:], ".log") {
		return LogName{}, false
	}
	digits := name[3 : len(name)-4]
	if len(digits) != 1 { // res1.log, res2.log; longer digit runs are archived logs of base "res"
		return LogName{}, false
	}
	n, ok := parseDecimal(digits)
	if !ok {
		return LogName{}, false
	}
	return LogName{Gen: n, Ext: ".log", Kind: LogReserve, Digits: len(digits)}, true
}

// validBaseName accepts three printable ASCII characters that can stand in a
// file name and are not the extension dot.
func validBaseName(base string) bool {
	if len(base) != baseNameLen {
		return false
	}
	for i := 0; i < len(base); i++ {
		c := base[i]
		if c <= ' ' || c >= 0x7F || strings.IndexByte(`.\/:*?"<>|`, c) >= 0 {
			return false
		}
	}
	return true
}

// parseHex decodes upper- or lower-case hex digits (at most 8).
func parseHex(s string) (uint32, bool) {
	if s == "" || len(s) > 8 {
		return 0, false
	}
	var v uint32
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint32(c-'0')
		case c >= 'A' && c <= 'F':
			v = v<<4 | uint32(c-'A'+10)
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint32(c-'a'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// parseDecimal decodes 1-5 decimal digits.
func parseDecimal(s string) (uint32, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	var v uint32
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint32(c-'0')
	}
	return v, true
}

// maxShortGen is the largest generation ESE writes with 5 hex digits.
const maxShortGen = 0xFFFFF

// LogFileName builds the name of archived generation gen: base, then the
// generation in upper-case hex (5 digits while gen <= 0xFFFFF unless
// eightDigits, else 8), then ext (".log" or ".jtx"; the dot may be omitted).
func LogFileName(base string, gen uint32, ext string, eightDigits bool) string {
	if ext != "" && ext[0] != '.' {
		ext = "." + ext
	}
	if eightDigits || gen > maxShortGen {
		return fmt.Sprintf("%s%08X%s", base, gen, ext)
	}
	return fmt.Sprintf("%s%05X%s", base, gen, ext)
}

// String rebuilds a canonical file name for the parsed name: upper-case hex
// digits, lower-case extension, the base as parsed.
func (n LogName) String() string {
	switch n.Kind {
	case LogArchived:
		return LogFileName(n.Base, n.Gen, n.Ext, n.Digits == 8)
	case LogCurrent, LogCheckpoint:
		return n.Base + n.Ext
	case LogTmp:
		return n.Base + "tmp" + n.Ext
	case LogReserve:
		if n.Base == "" {
			return fmt.Sprintf("res%0*d%s", n.Digits, n.Gen, n.Ext)
		}
		return fmt.Sprintf("%sres%05d%s", n.Base, n.Gen, n.Ext)
	}
	return ""
}
