package format

import (
	"errors"
	"fmt"
	"unicode/utf16"
)

// AttachAreaSize is the size of the ATTACHINFO area in a log header (at 671)
// and in a checkpoint copy (at 679).
const AttachAreaSize = 2048

// attachFixedSize is the fixed part of one ATTACHINFO entry; the path follows.
const attachFixedSize = 64

// Attach-list flags (ATTACHINFO +1).
const (
	AttachUnicodeNames byte = 0x20 // the path is UTF-16LE
	AttachSparseFile   byte = 0x40 // the database file supports trim (sparse)
)

// AttachInfo is one ATTACHINFO entry: a database attached to the log stream
// when a log generation (or the checkpoint) was written. Its SignDb matches
// the database header's signDb, which ties a log stream to its files.
type AttachInfo struct {
	DBID               uint8
	Flags              uint8
	DBTime             uint64
	ObjidLast          uint32
	CpgDatabaseSizeMax uint32
	LgposAttach        LGPos
	LgposConsistent    LGPos
	SignDb             Signature
	Path               string // database path, without the terminating NUL

	// unterminated records a name stored without its NUL, so that an entry
	// read from disk encodes back to the same bytes.
	unterminated bool
}

// EncodedSize is the number of bytes the entry takes in an attach list.
func (a *AttachInfo) EncodedSize() int { return attachFixedSize + len(a.nameBytes(nil)) }

// nameBytes appends the on-disk form of the path (with its NUL) to dst.
func (a *AttachInfo) nameBytes(dst []byte) []byte {
	if a.Flags&AttachUnicodeNames == 0 {
		dst = append(dst, a.Path...)
		if a.unterminated {
			return dst
		}
		return append(dst, 0)
	}
	for _, u := range utf16.Encode([]rune(a.Path)) {
		dst = append(dst, byte(u), byte(u>>8))
	}
	if a.unterminated {
		return dst
	}
	return append(dst, 0, 0)
}

// ParseAttachList decodes an ATTACHINFO list: entries back to back, ended by
// an entry whose first byte (dbid) is 0. b is the attach area, normally
// AttachAreaSize bytes. An entry that runs past b, or a list without its
// terminating zero byte, is an error.
func ParseAttachList(b []byte) ([]AttachInfo, error) {
	list, _, err := parseAttachArea(b)
	return list, err
}

// parseAttachArea decodes the list and also returns the offset of its
// terminating zero byte.
func parseAttachArea(b []byte) ([]AttachInfo, int, error) {
	var list []AttachInfo
	off := 0
	for {
		if off >= len(b) {
			return nil, 0, fmt.Errorf("attach list: no terminating entry within %d bytes", len(b))
		}
		if b[off] == 0 {
			return list, off, nil
		}
		if len(b)-off < attachFixedSize {
			return nil, 0, fmt.Errorf("attach list: entry %d at offset %d: fixed part runs past the %d-byte area", len(list), off, len(b))
		}
		e := b[off:]
		cb := int(le.Uint16(e[2:]))
		if cb > len(e)-attachFixedSize {
			return nil, 0, fmt.Errorf("attach list: entry %d at offset %d: %d name bytes run past the %d-byte area", len(list), off, cb, len(b))
		}
		a := AttachInfo{
			DBID:               e[0],
			Flags:              e[1],
			DBTime:             le.Uint64(e[4:]),
			ObjidLast:          le.Uint32(e[12:]),
			CpgDatabaseSizeMax: le.Uint32(e[16:]),
			LgposAttach:        ParseLGPos(e[20:28]),
			LgposConsistent:    ParseLGPos(e[28:36]),
			SignDb:             ParseSignature(e[36:64]),
		}
		name := e[attachFixedSize : attachFixedSize+cb]
		if a.Flags&AttachUnicodeNames != 0 {
			if cb%2 != 0 {
				return nil, 0, fmt.Errorf("attach list: entry %d at offset %d: UTF-16 name has odd length %d", len(list), off, cb)
			}
			u := make([]uint16, cb/2)
			for i := range u {
				u[i] = le.Uint16(name[2*i:])
			}
			if n := len(u); n > 0 && u[n-1] == 0 {
				u = u[:n-1]
			} else {
				a.unterminated = true
			}
			a.Path = string(utf16.Decode(u))
		} else {
			if n := len(name); n > 0 && name[n-1] == 0 {
				name = name[:n-1]
			} else {
				a.unterminated = true
			}
			a.Path = string(name)
		}
		list = append(list, a)
		off += attachFixedSize + cb
	}
}

// errAttachDBIDZero rejects an entry that would read back as the list's end.
var errAttachDBIDZero = errors.New("attach list: entry with dbid 0 would end the list")

// EncodeAttachList writes list into the attach area dst, followed by the
// terminating zero byte, and returns the number of bytes used. Bytes of dst
// after the terminator are left as they are. It fails if an entry has dbid 0,
// a path longer than 65535 bytes, or the list does not fit.
func EncodeAttachList(dst []byte, list []AttachInfo) (int, error) {
	off := 0
	var name []byte
	for i := range list {
		a := &list[i]
		if a.DBID == 0 {
			return 0, errAttachDBIDZero
		}
		name = a.nameBytes(name[:0])
		if len(name) > 0xFFFF {
			return 0, fmt.Errorf("attach list: entry %d: path of %d bytes is too long", i, len(name))
		}
		need := attachFixedSize + len(name)
		if need >= len(dst)-off { // keep one byte for the terminator
			return 0, fmt.Errorf("attach list: entry %d does not fit in the %d-byte area", i, len(dst))
		}
		e := dst[off:]
		e[0] = a.DBID
		e[1] = a.Flags
		le.PutUint16(e[2:], uint16(len(name)))
		le.PutUint64(e[4:], a.DBTime)
		le.PutUint32(e[12:], a.ObjidLast)
		le.PutUint32(e[16:], a.CpgDatabaseSizeMax)
		a.LgposAttach.Put(e[20:28])
		a.LgposConsistent.Put(e[28:36])
		a.SignDb.Put(e[36:64])
		copy(e[attachFixedSize:], name)
		off += need
	}
	if off >= len(dst) {
		return 0, fmt.Errorf("attach list: no room for the terminator in the %d-byte area", len(dst))
	}
	dst[off] = 0
	return off + 1, nil
}

// attachTail returns the bytes after the list terminator at term, without
// trailing zeros, or nil when they are all zero. ESE leaves stale entries
// there (a checkpoint written at clean termination only zeroes the first
// byte), and keeping them lets Encode reproduce a real header byte for byte.
func attachTail(area []byte, term int) []byte {
	t := area[term+1:]
	end := len(t)
	for end > 0 && t[end-1] == 0 {
		end--
	}
	if end == 0 {
		return nil
	}
	return append([]byte(nil), t[:end]...)
}

// putAttachArea encodes list and tail into the zeroed area. It panics when
// they do not fit, since a header is built by the program, not read.
func putAttachArea(area []byte, list []AttachInfo, tail []byte) {
	n, err := EncodeAttachList(area, list)
	if err != nil {
		panic("format: " + err.Error())
	}
	copy(area[n:], tail)
}
