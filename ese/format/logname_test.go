package format

import "testing"

func TestParseLogName(t *testing.T) {
	tests := []struct {
		name string
		want LogName
		ok   bool
	}{
		{"SRU.log", LogName{Base: "SRU", Ext: ".log", Kind: LogCurrent}, true},
		{"edb.jtx", LogName{Base: "edb", Ext: ".jtx", Kind: LogCurrent}, true},
		{"SRU0005B.log", LogName{Base: "SRU", Gen: 0x5B, Ext: ".log", Kind: LogArchived, Digits: 5}, true},
		{"sru0005b.LOG", LogName{Base: "sru", Gen: 0x5B, Ext: ".log", Kind: LogArchived, Digits: 5}, true},
		{"edb0000D.jtx", LogName{Base: "edb", Gen: 0xD, Ext: ".jtx", Kind: LogArchived, Digits: 5}, true},
		{"E0000100000.log", LogName{Base: "E00", Gen: 0x100000, Ext: ".log", Kind: LogArchived, Digits: 8}, true},
		{"E01FFFFFFFF.log", LogName{Base: "E01", Gen: 0xFFFFFFFF, Ext: ".log", Kind: LogArchived, Digits: 8}, true},
		{"SRUtmp.log", LogName{Base: "SRU", Ext: ".log", Kind: LogTmp}, true},
		{"edbTMP.jtx", LogName{Base: "edb", Ext: ".jtx", Kind: LogTmp}, true},
		{"SRUres00001.jrs", LogName{Base: "SRU", Gen: 1, Ext: ".jrs", Kind: LogReserve, Digits: 5}, true},
		{"srures00002.jrs", LogName{Base: "sru", Gen: 2, Ext: ".jrs", Kind: LogReserve, Digits: 5}, true},
		{"res1.log", LogName{Gen: 1, Ext: ".log", Kind: LogReserve, Digits: 1}, true},
		{"RES2.LOG", LogName{Gen: 2, Ext: ".log", Kind: LogReserve, Digits: 1}, true},
		{"res00001.log", LogName{Base: "res", Gen: 1, Ext: ".log", Kind: LogArchived, Digits: 5}, true},
		{"SRU.chk", LogName{Base: "SRU", Ext: ".chk", Kind: LogCheckpoint}, true},
		{"edb.JCP", LogName{Base: "edb", Ext: ".jcp", Kind: LogCheckpoint}, true},
		// not logs
		{"SRUDB.dat", LogName{}, false},
		{"SRUDB.jfm", LogName{}, false},
		{"SRU0005.log", LogName{}, false},     // 4 digits
		{"SRU000005B.log", LogName{}, false},  // 6 digits
		{"SRU0005G.log", LogName{}, false},    // not hex
		{"SRUres0001.jrs", LogName{}, false},  // 4 digits
		{"SRUres0000A.jrs", LogName{}, false}, // reserve numbers are decimal
		{"SRU1.chk", LogName{}, false},
		{"SR.log", LogName{}, false},
		{".log", LogName{}, false},
		{"a.b.log", LogName{}, false},
		{"", LogName{}, false},
		{"SRU", LogName{}, false},
		{"res12.log", LogName{}, false}, // base "res", 2 digits
		{"SRU00003.txt", LogName{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseLogName(tt.name)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseLogName(%q) = %+v, %v; want %+v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseLogNameBase(t *testing.T) {
	tests := []struct {
		name, base string
		kind       LogFileKind
		ok         bool
	}{
		{"SRU00003.log", "SRU", LogArchived, true},
		{"sru00003.log", "SRU", LogArchived, true},
		{"SRU00003.log", "sru", LogArchived, true},
		{"SRU00003.log", "edb", LogNotLog, false},
		{"edb.chk", "SRU", LogNotLog, false},
		{"res1.log", "SRU", LogReserve, true}, // old reserve logs carry no base
		{"SRU00003.log", "SRUX", LogNotLog, false},
		{"SRU00003.log", "", LogNotLog, false},
	}
	for _, tt := range tests {
		got, ok := ParseLogNameBase(tt.name, tt.base)
		if ok != tt.ok || got.Kind != tt.kind {
			t.Errorf("ParseLogNameBase(%q, %q) = %+v, %v; want kind %v, %v", tt.name, tt.base, got, ok, tt.kind, tt.ok)
		}
	}
}

func TestLogFileName(t *testing.T) {
	tests := []struct {
		base  string
		gen   uint32
		ext   string
		eight bool
		want  string
	}{
		{"SRU", 0x5B, ".log", false, "SRU0005B.log"},
		{"edb", 0xD, "jtx", false, "edb0000D.jtx"},
		{"edb", 0xFFFFF, ".log", false, "edbFFFFF.log"},
		{"edb", 0x100000, ".log", false, "edb00100000.log"},
		{"E00", 0x1, ".log", true, "E0000000001.log"},
		{"E00", 0xABCDEF12, ".log", false, "E00ABCDEF12.log"},
	}
	for _, tt := range tests {
		got := LogFileName(tt.base, tt.gen, tt.ext, tt.eight)
		if got != tt.want {
			t.Errorf("LogFileName(%q, %#x, %q, %v) = %q, want %q", tt.base, tt.gen, tt.ext, tt.eight, got, tt.want)
		}
		ln, ok := ParseLogName(got)
		if !ok || ln.Kind != LogArchived || ln.Gen != tt.gen {
			t.Errorf("ParseLogName(%q) = %+v, %v; want archived generation %#x", got, ln, ok, tt.gen)
		}
	}
}

func TestLogNameString(t *testing.T) {
	for _, name := range []string{"SRU.log", "SRU0005B.log", "E0000100000.log", "SRUtmp.log", "SRUres00001.jrs", "res1.log", "SRU.chk", "edb.jcp"} {
		ln, ok := ParseLogName(name)
		if !ok {
			t.Fatalf("ParseLogName(%q) failed", name)
		}
		if got := ln.String(); got != name {
			t.Errorf("ParseLogName(%q).String() = %q", name, got)
		}
	}
	if s := (LogName{}).String(); s != "" {
		t.Errorf("zero LogName prints %q, want empty", s)
	}
	if s := LogTmp.String(); s != "tmp log" {
		t.Errorf("LogTmp.String() = %q", s)
	}
}
