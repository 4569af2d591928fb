package format

import (
	"bytes"
	"strings"
	"testing"
)

func TestAttachListRoundTrip(t *testing.T) {
	list := []AttachInfo{
		{DBID: 1, Flags: AttachUnicodeNames, DBTime: 0xA52, ObjidLast: 0x18, CpgDatabaseSizeMax: 7,
			LgposAttach: LGPos{IB: 0x268, ISec: 7, Gen: 3}, LgposConsistent: LGPos{IB: 0x36, ISec: 5, Gen: 3},
			SignDb: Signature{Random: 0xA5176F0E}, Path: `C:\Windows\system32\SRU\SRUDB.dat`},
		{DBID: 2, Flags: 0, Path: `D:\ansi.edb`},
		{DBID: 3, Flags: AttachUnicodeNames, Path: "日本語.edb"},
	}
	area := make([]byte, AttachAreaSize)
	n, err := EncodeAttachList(area, list)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for i := range list {
		want += list[i].EncodedSize()
	}
	if n != want+1 || area[n-1] != 0 {
		t.Errorf("used %d bytes, want %d plus the terminator", n, want)
	}
	if list[0].EncodedSize() != 64+68 { // 33 UTF-16 characters and a NUL
		t.Errorf("entry size %d, want 132", list[0].EncodedSize())
	}
	got, err := ParseAttachList(area)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(list) {
		t.Fatalf("got %d entries, want %d", len(got), len(list))
	}
	for i := range list {
		if got[i] != list[i] {
			t.Errorf("entry %d: got %+v, want %+v", i, got[i], list[i])
		}
	}
}

func TestAttachListErrors(t *testing.T) {
	entry := func(cb uint16, flags byte) []byte {
		b := make([]byte, 64)
		b[0], b[1] = 1, flags
		le.PutUint16(b[2:], cb)
		return b
	}
	tests := []struct {
		name string
		area []byte
		frag string
	}{
		{"empty area", nil, "no terminating entry"},
		{"no terminator", append(entry(2, 0), 'a', 0), "no terminating entry"},
		{"fixed part cut", entry(0, 0)[:40], "fixed part"},
		{"names past end", append(entry(100, 0), make([]byte, 10)...), "name bytes"},
		{"odd utf16", append(entry(3, AttachUnicodeNames), 'a', 0, 0, 0), "odd length"},
	}
	for _, tt := range tests {
		_, err := ParseAttachList(tt.area)
		if err == nil || !strings.Contains(err.Error(), tt.frag) {
			t.Errorf("%s: error %v, want one mentioning %q", tt.name, err, tt.frag)
		}
	}
	if list, err := ParseAttachList([]byte{0, 1, 2}); err != nil || len(list) != 0 {
		t.Errorf("empty list: %v, %v", list, err)
	}

	area := make([]byte, 100)
	if _, err := EncodeAttachList(area, []AttachInfo{{DBID: 0, Path: "x"}}); err == nil {
		t.Error("dbid 0 accepted")
	}
	if _, err := EncodeAttachList(area, []AttachInfo{{DBID: 1, Path: strings.Repeat("x", 40)}}); err == nil {
		t.Error("entry larger than the area accepted")
	}
	if _, err := EncodeAttachList(make([]byte, 0), nil); err == nil {
		t.Error("no room for the terminator accepted")
	}
	if _, err := EncodeAttachList(make([]byte, 1<<17), []AttachInfo{{DBID: 1, Path: strings.Repeat("x", 70000)}}); err == nil {
		t.Error("path over 65535 bytes accepted")
	}
}

func TestAttachTail(t *testing.T) {
	area := make([]byte, 16)
	area[5], area[9] = 3, 4
	if got := attachTail(area, 0); !bytes.Equal(got, []byte{0, 0, 0, 0, 3, 0, 0, 0, 4}) {
		t.Errorf("tail %v", got)
	}
	if got := attachTail(make([]byte, 16), 0); got != nil {
		t.Errorf("zero tail %v, want nil", got)
	}
}
