package format

import (
	"encoding/binary"
	"fmt"
	"time"
)

var le = binary.LittleEndian

// LogTime is ESE's 8-byte LOGTIME: seconds, minutes, hours, day, month
// (1-12), year-1900, then a UTC bit and milliseconds split over bytes 6 and 7.
// Chain checks compare LogTimes byte for byte, so it stays a byte array.
type LogTime [8]byte

// LogTimeFrom encodes t (converted to UTC) as a LOGTIME with the UTC bit set.
func LogTimeFrom(t time.Time) LogTime {
	t = t.UTC()
	ms := t.Nanosecond() / int(time.Millisecond)
	var lt LogTime
	lt[0] = byte(t.Second())
	lt[1] = byte(t.Minute())
	lt[2] = byte(t.Hour())
	lt[3] = byte(t.Day())
	lt[4] = byte(t.Month())
	lt[5] = byte(t.Year() - 1900)
	lt[6] = 1 | byte(ms&0x7F)<<1
	lt[7] = byte(ms>>7) << 1
	return lt
}

// IsZero reports whether the time is unset (all zero bytes).
func (lt LogTime) IsZero() bool { return lt == LogTime{} }

// UTC reports whether the time was recorded in UTC (newer engines).
func (lt LogTime) UTC() bool { return lt[6]&1 != 0 }

// Time decodes the LOGTIME; times without the UTC bit are taken as UTC too,
// since the file does not say which local zone wrote them.
func (lt LogTime) Time() time.Time {
	if lt.IsZero() {
		return time.Time{}
	}
	ms := int(lt[6]>>1) | int((lt[7]>>1)&0x7)<<7
	return time.Date(1900+int(lt[5]), time.Month(lt[4]), int(lt[3]), int(lt[2]), int(lt[1]), int(lt[0]), ms*int(time.Millisecond), time.UTC)
}

// String prints the time like the inventory does: 2022-02-05 19:30:30.435Z.
func (lt LogTime) String() string {
	if lt.IsZero() {
		return "unset"
	}
	s := lt.Time().Format("2006-01-02 15:04:05.000")
	if lt.UTC() {
		s += "Z"
	}
	return s
}

// Signature is ESE's 28-byte SIGNATURE: a random number, a creation time and
// a 16-byte computer name. Two signatures match only if all 28 bytes do.
type Signature struct {
	Random   uint32
	Created  LogTime
	Computer [16]byte
}

// SignatureSize is the encoded size of a Signature.
const SignatureSize = 28

// ParseSignature decodes 28 bytes; b must hold at least SignatureSize bytes.
func ParseSignature(b []byte) Signature {
	var s Signature
	s.Random = le.Uint32(b[0:])
	copy(s.Created[:], b[4:12])
	copy(s.Computer[:], b[12:28])
	return s
}

// Put encodes the signature into b[0:28].
func (s Signature) Put(b []byte) {
	le.PutUint32(b[0:], s.Random)
	copy(b[4:12], s.Created[:])
	copy(b[12:28], s.Computer[:])
}

// IsZero reports whether the signature is unset (as after esentutl /p).
func (s Signature) IsZero() bool { return s == Signature{} }

// String prints the random number and creation time, enough to tell streams apart.
func (s Signature) String() string {
	return fmt.Sprintf("%08X@%s", s.Random, s.Created)
}

// LGPos is a log position: byte, sector (segment) and generation. Encoded
// little-endian in that order, so the 8 bytes compare as a uint64.
type LGPos struct {
	IB   uint16
	ISec uint16
	Gen  int32
}

// ParseLGPos decodes 8 bytes.
func ParseLGPos(b []byte) LGPos {
	return LGPos{IB: le.Uint16(b[0:]), ISec: le.Uint16(b[2:]), Gen: int32(le.Uint32(b[4:]))}
}

// Put encodes the position into b[0:8].
func (p LGPos) Put(b []byte) {
	le.PutUint16(b[0:], p.IB)
	le.PutUint16(b[2:], p.ISec)
	le.PutUint32(b[4:], uint32(p.Gen))
}

// Compare orders positions by generation, then sector, then byte.
func (p LGPos) Compare(q LGPos) int {
	a := uint64(uint32(p.Gen))<<32 | uint64(p.ISec)<<16 | uint64(p.IB)
	b := uint64(uint32(q.Gen))<<32 | uint64(q.ISec)<<16 | uint64(q.IB)
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// IsZero reports whether the position is unset.
func (p LGPos) IsZero() bool { return p == LGPos{} }

// String prints the position as esentutl does: (gen,isec,ib) in hex.
func (p LGPos) String() string { return fmt.Sprintf("(%X,%X,%X)", p.Gen, p.ISec, p.IB) }

// BKInfo is ESE's 24-byte BKINFO: the backup mark and the inclusive range of
// log generations that belong to a backup.
type BKInfo struct {
	Mark     LGPos
	MarkTime LogTime
	GenLow   uint32
	GenHigh  uint32
}

// BKInfoSize is the encoded size of a BKInfo.
const BKInfoSize = 24

// ParseBKInfo decodes 24 bytes.
func ParseBKInfo(b []byte) BKInfo {
	var bk BKInfo
	bk.Mark = ParseLGPos(b[0:8])
	copy(bk.MarkTime[:], b[8:16])
	bk.GenLow = le.Uint32(b[16:])
	bk.GenHigh = le.Uint32(b[20:])
	return bk
}

// Put encodes the record into b[0:24].
func (bk BKInfo) Put(b []byte) {
	bk.Mark.Put(b[0:8])
	copy(b[8:16], bk.MarkTime[:])
	le.PutUint32(b[16:], bk.GenLow)
	le.PutUint32(b[20:], bk.GenHigh)
}

// IsZero reports whether no backup is recorded.
func (bk BKInfo) IsZero() bool { return bk == BKInfo{} }
