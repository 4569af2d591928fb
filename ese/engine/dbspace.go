package engine

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

// Fixed page numbers every ESE database has (ese-format.md §2, §3): the two
// header pages precede pgno 1; pgno 1 is the database root (objidFDP 1),
// whose first line is its space header naming the root of its owned-extent
// (OE) tree, normally pgno 2; pgno 3 is the available-extent tree.
const (
	headerPages    = 2 // primary and shadow header (cpgDBReserved)
	pgnoSystemRoot = 1
	objidSystem    = 1
	minDBPages     = headerPages + 3 // the headers and pgno 1..3
	maxSpaceDepth  = 8               // levels of the OE tree we follow
	headPages      = headerPages + 2 // read at once: the headers, pgno 1 and 2
)

// Page header fields and flags used to read the space tree (§3).
const (
	offPgObjidFDP   = 24
	offPgItagState  = 34
	pageFlagRoot    = 0x1
	pageFlagLeaf    = 0x2
	pageFlagSpace   = 0x20
	nodeFlagDeleted = 0x2
	nodeFlagPrefix  = 0x4
	largePageMin    = 16384
)

// ownedLastPgno returns the last page the database owns according to its
// own space information: the highest extent end (key) in the owned-extent
// tree of the database root. ok is false when pages 1 and the OE root do not
// read as that structure (a damaged page, or a synthetic file without space
// trees); the caller then has no space information to check against. Only
// pages that verify their checksum are used.
func ownedLastPgno(r io.ReaderAt, size int64, ps int) (last uint32, ok bool) {
	// The header pages, pgno 1 and the usual OE root (pgno 2) are read
	// in one piece from the start of the file, as the header is.
	head := make([]byte, min(size, int64(headPages*ps)))
	if n, _ := r.ReadAt(head, 0); n != len(head) {
		return 0, false
	}
	read := func(pgno uint32) []byte {
		off := (int64(pgno) + 1) * int64(ps)
		if off+int64(ps) > size {
			return nil
		}
		var b []byte
		if off+int64(ps) <= int64(len(head)) {
			b = head[off : off+int64(ps)]
		} else {
			b = make([]byte, ps)
			if n, _ := r.ReadAt(b, off); n != ps {
				return nil
			}
		}
		if format.VerifyPage(b, pgno).Status != format.PageOK || le32(b[offPgObjidFDP:]) != objidSystem {
			return nil
		}
		return b
	}
	root := read(pgnoSystemRoot)
	if root == nil || le32(root[format.OffPageFlags:])&pageFlagRoot == 0 {
		return 0, false
	}
	hdr, _, okHdr := pageLine(root, 0)
	if !okHdr || len(hdr) < 16 {
		return 0, false
	}
	pgno := le32(hdr[12:]) // SPACE_HEADER: cpgPrimary, pgnoParent, flags, pgnoOE
	if pgno <= pgnoSystemRoot || int64(pgno+2)*int64(ps) > size {
		return 0, false
	}
	for depth := 0; depth < maxSpaceDepth; depth++ {
		p := read(pgno)
		if p == nil || le32(p[format.OffPageFlags:])&pageFlagSpace == 0 {
			return 0, false
		}
		leaf := le32(p[format.OffPageFlags:])&pageFlagLeaf != 0
		n := int(binary.LittleEndian.Uint16(p[offPgItagState:]) & 0x0FFF)
		var best uint32
		found := false
		for i := n - 1; i >= 1; i-- {
			key, data, ok := pageNode(p, i)
			if !ok {
				return 0, false
			}
			if key == nil { // deleted
				continue
			}
			if !leaf {
				// The last node of an internal page points at the
				// rightmost child, which holds the highest keys.
				if len(data) < 4 {
					return 0, false
				}
				pgno = le32(data[len(data)-4:])
				found = true
				break
			}
			if len(key) != 4 {
				return 0, false
			}
			if k := binary.BigEndian.Uint32(key); k > best {
				best, found = k, true
			}
		}
		if !found {
			return 0, false
		}
		if leaf {
			return best, true
		}
	}
	return 0, false
}

// pageLine returns line (tag) i of page p: its bytes and flags. ok is false
// when the tag lies outside the page.
func pageLine(p []byte, i int) (line []byte, flags int, ok bool) {
	ps := len(p)
	n := int(binary.LittleEndian.Uint16(p[offPgItagState:]) & 0x0FFF)
	hdr := 40
	if ps >= largePageMin {
		hdr = 80
	}
	if i >= n || ps-4*(i+1) < hdr {
		return nil, 0, false
	}
	t := p[ps-4*(i+1):]
	cb, ib := int(binary.LittleEndian.Uint16(t)), int(binary.LittleEndian.Uint16(t[2:]))
	if ps < largePageMin {
		flags, cb, ib = ib>>13, cb&0x1FFF, ib&0x1FFF
	} else {
		cb, ib = cb&0x7FFF, ib&0x7FFF
	}
	if hdr+ib+cb > ps-4*n {
		return nil, 0, false
	}
	line = p[hdr+ib : hdr+ib+cb]
	if ps >= largePageMin && len(line) >= 2 {
		flags = int(line[1] >> 5) // large pages keep the flags in the node's first word
	}
	return line, flags, true
}

// pageNode decodes node i of a tree page: its full key (a prefix-compressed
// key is completed from line 0) and its data. A deleted node has a nil key.
func pageNode(p []byte, i int) (key, data []byte, ok bool) {
	line, flags, ok := pageLine(p, i)
	if !ok {
		return nil, nil, false
	}
	if flags&nodeFlagDeleted != 0 {
		return nil, nil, true
	}
	word := func(b []byte) int { return int(binary.LittleEndian.Uint16(b) & 0x1FFF) }
	var prefix []byte
	if flags&nodeFlagPrefix != 0 {
		if len(line) < 2 {
			return nil, nil, false
		}
		cbPrefix := word(line)
		line = line[2:]
		p0, _, ok := pageLine(p, 0)
		if !ok || cbPrefix > len(p0) {
			return nil, nil, false
		}
		prefix = p0[:cbPrefix]
	}
	if len(line) < 2 {
		return nil, nil, false
	}
	cb := word(line)
	if 2+cb > len(line) {
		return nil, nil, false
	}
	key = append(append([]byte{}, prefix...), line[2:2+cb]...)
	return key, line[2+cb:], true
}

// checkDatabaseSize applies the size rule to a database whose header was
// elected with page size ps: the file is a whole number of pages, holds at
// least the header pages and pgno 1..3, and is not shorter than the last page
// its own owned-extent tree gives it. A file cut short (a failed copy, a
// truncated restore, a full disk) fails here, naming the expected and actual
// sizes, instead of being backed up as if it were whole.
func checkDatabaseSize(op, path string, r io.ReaderAt, size int64, ps int) error {
	need := int64(minDBPages) * int64(ps)
	what := fmt.Sprintf("the header pages and pages 1-3 of %d bytes", ps)
	if last, ok := ownedLastPgno(r, size, ps); ok {
		if n := (int64(last) + headerPages) * int64(ps); n > need {
			need = n
			what = fmt.Sprintf("pages 1..%d of %d bytes, as its space tree (page 1) says it owns, plus 2 header pages", last, ps)
		}
	}
	if size < need {
		return &ese.Error{Code: ese.ErrFileIOBeyondEOF, Op: op, File: path,
			Err: fmt.Errorf("database file is %d bytes, expected at least %d bytes (%s): %d bytes missing, the file was cut short", size, need, what, need-size)}
	}
	if size%int64(ps) != 0 {
		return &ese.Error{Code: ese.ErrDatabaseCorrupted, Op: op, File: path,
			Err: fmt.Errorf("database file is %d bytes, not a whole number of %d-byte pages (%d bytes over)", size, ps, size%int64(ps))}
	}
	return nil
}
