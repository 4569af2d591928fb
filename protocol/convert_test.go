package protocol

import (
	"reflect"
	"testing"

	"github.com/esesnap/esesnap/protocol/snapshotv1"
	"google.golang.org/protobuf/proto"
)

// wire sends m through the protobuf encoding, as gRPC does, and returns the
// decoded copy.
func wire[M proto.Message](t *testing.T, m M) M {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatalf("marshal %T: %v", m, err)
	}
	out := m.ProtoReflect().New().Interface().(M)
	if err := proto.Unmarshal(b, out); err != nil {
		t.Fatalf("unmarshal %T: %v", m, err)
	}
	return out
}

// roundTrip checks that in survives Go -> wire message -> bytes -> wire
// message -> Go. Values under test hold no empty (non-nil) slices or maps,
// which the encoding cannot tell from nil.
func roundTrip[G any, M proto.Message](t *testing.T, in G, to func(G) M, from func(M) G) {
	t.Helper()
	if got := from(to(in)); !reflect.DeepEqual(got, in) {
		t.Errorf("in memory:\n got %#v\nwant %#v", got, in)
	}
	if got := from(wire(t, to(in))); !reflect.DeepEqual(got, in) {
		t.Errorf("through the wire:\n got %#v\nwant %#v", got, in)
	}
}

func TestConvertInfo(t *testing.T) {
	for _, in := range []Info{
		{},
		{
			Name: "esesnap-ese", Version: "1.2.3",
			Kinds:         []Kind{KindFull, KindIncremental, KindCopy, KindDifferential},
			MaxChunkBytes: MaxChunkBytes,
			Capabilities:  []string{CapabilityRestore, CapabilityTruncateLogs, CapabilityVerify},
			Options: []OptionSpec{
				{Name: "log-dir", Type: OptionPath, Help: "log directory", Restore: true},
				{Name: "database", Type: OptionList, Repeatable: true},
				{Name: "password", Type: OptionString, Default: "x", Secret: true},
			},
		},
		{Name: "from a newer peer", Kinds: []Kind{Kind(9)}, Capabilities: []string{"teleport"}},
	} {
		roundTrip(t, in, ToProtoInfo, FromProtoInfo)
	}
}

func TestConvertBeginRequest(t *testing.T) {
	for _, in := range []BeginRequest{
		{},
		{
			Kind: KindIncremental,
			Source: Source{
				Location: `C:\Windows\NTDS`,
				Options: map[string]string{"log-dir": `D:\logs`, "system-dir": `C:\Windows\NTDS\sys`,
					"base-name": "edb", "database": JoinList([]string{`C:\Windows\NTDS\ntds.dit`, "b.edb"}),
					"instance": "NTDSA", "verify": "true"},
			},
		},
		{Kind: KindCopy, Source: Source{Location: "/srv/x", Options: map[string]string{"log-dir": "/l"}}},
		{Kind: KindCopy, Source: Source{Location: "/srv/x", Options: map[string]string{"log-dir": "", "database": ""}}},
	} {
		roundTrip(t, in, ToProtoBeginRequest, FromProtoBeginRequest)
	}
}

func TestConvertFiles(t *testing.T) {
	for _, in := range [][]File{
		nil,
		{
			{Name: `C:\db\ntds.dit`, Role: RoleDatabase, Size: (1000 + 3) * 8192, PageSize: 8192},
			{Name: `C:\db\edb0001A.log`, Role: RoleLog, Size: 1 << 20, PageSize: 8192, Generation: 0x1A},
			{Name: "manifest.json", Role: RoleOther},
			{Name: "from a newer peer", Role: Role(7), Generation: 1<<32 - 1},
		},
	} {
		roundTrip(t, in, ToProtoFiles, FromProtoFiles)
	}
}

func TestConvertEndRequest(t *testing.T) {
	for _, in := range []EndRequest{
		{},
		{Outcome: OutcomeSucceeded, TruncateLogs: true},
		{Outcome: OutcomeAborted},
	} {
		m := ToProtoEndRequest("session-7", in)
		if got := wire(t, m).GetSessionId(); got != "session-7" {
			t.Errorf("session id = %q", got)
		}
		roundTrip(t, in, func(r EndRequest) *snapshotv1.End_Request { return ToProtoEndRequest("s", r) }, FromProtoEndRequest)
	}
}

func TestConvertEndResult(t *testing.T) {
	for _, in := range []EndResult{
		{},
		{
			Recorded:  "bkinfoFullPrev",
			Truncated: []string{"edb00001.log", "edb00002.log"},
			Metadata:  []Metadata{LogRange{GenLow: 3, GenHigh: 9, BaseName: "edb"}.Metadata(), {Type: "example.other.v1", Data: []byte{1, 2}}},
			Warnings:  []string{"edb00001.log was already gone"},
		},
		{Recorded: "a snapshot tag", Metadata: []Metadata{{Type: "example.other.v1", Data: []byte("x")}}},
	} {
		roundTrip(t, in, ToProtoEndResult, FromProtoEndResult)
	}
}

func TestConvertRestore(t *testing.T) {
	for _, in := range []RestoreRequest{
		{},
		{
			Location:     `D:\restore`,
			BackupSetDir: "/backup/set1",
			Databases: []RestoreMap{
				{DatabaseName: `C:\Windows\NTDS\ntds.dit`, NewDatabaseName: `D:\restore\ntds.dit`},
			},
			Metadata: []Metadata{LogRange{GenLow: 0x10, GenHigh: 0x2F, BaseName: "edb"}.Metadata()},
			Options:  map[string]string{"log-dir": `D:\restore\logs`, "system-dir": `D:\restore`, "target-instance": "x"},
		},
	} {
		roundTrip(t, in, ToProtoRestoreRequest, FromProtoRestoreRequest)
	}
	for _, in := range []RestoreResult{
		{},
		{
			Staged:          []string{`D:\restore\ntds.dit`, `D:\restore\logs\edb00010.log`},
			RecoveryCommand: []string{"esentutl", "/r", "edb", "/l", `D:\restore\logs`},
			Warnings:        []string{"circular logging is on"},
		},
	} {
		roundTrip(t, in, ToProtoRestoreResult, FromProtoRestoreResult)
	}
}

// TestFromProtoNil checks that a nil message converts to the zero value
// instead of panicking (a missing sub-message is legal on the wire).
func TestFromProtoNil(t *testing.T) {
	if got := FromProtoInfo(nil); !reflect.DeepEqual(got, Info{}) {
		t.Errorf("FromProtoInfo(nil) = %#v", got)
	}
	if got := FromProtoBeginRequest(nil); !reflect.DeepEqual(got, BeginRequest{}) {
		t.Errorf("FromProtoBeginRequest(nil) = %#v", got)
	}
	if got := FromProtoFiles(nil); got != nil {
		t.Errorf("FromProtoFiles(nil) = %#v", got)
	}
	if got := FromProtoEndRequest(nil); got != (EndRequest{}) {
		t.Errorf("FromProtoEndRequest(nil) = %#v", got)
	}
	if got := FromProtoEndResult(nil); !reflect.DeepEqual(got, EndResult{}) {
		t.Errorf("FromProtoEndResult(nil) = %#v", got)
	}
	if got := FromProtoRestoreRequest(nil); !reflect.DeepEqual(got, RestoreRequest{}) {
		t.Errorf("FromProtoRestoreRequest(nil) = %#v", got)
	}
	if got := FromProtoRestoreResult(nil); !reflect.DeepEqual(got, RestoreResult{}) {
		t.Errorf("FromProtoRestoreResult(nil) = %#v", got)
	}
}

// TestConvertDoesNotAlias checks that converting copies: changing the
// message afterwards leaves the Go value alone, and the reverse.
func TestConvertDoesNotAlias(t *testing.T) {
	src := Source{Options: map[string]string{"k": "v", "log-dir": "/l"}}
	m := ToProtoBeginRequest(BeginRequest{Kind: KindFull, Source: src})
	m.Source.Options["k"] = "changed"
	if src.Options["k"] != "v" || src.Options["log-dir"] != "/l" {
		t.Errorf("ToProtoBeginRequest aliases its argument: %#v", src)
	}
	back := FromProtoBeginRequest(m)
	m.Source.Options["k"] = "again"
	if back.Source.Options["k"] != "changed" {
		t.Errorf("FromProtoBeginRequest aliases the message: %#v", back.Source)
	}
	md := []Metadata{{Type: "t", Data: []byte("a")}}
	em := ToProtoEndResult(EndResult{Metadata: md})
	em.Metadata[0].Data[0] = 'b'
	if md[0].Data[0] != 'a' {
		t.Errorf("ToProtoEndResult aliases the metadata")
	}
}

func TestToUint32Clamps(t *testing.T) {
	for _, tc := range []struct {
		in   int
		want uint32
	}{{-1, 0}, {0, 0}, {8192, 8192}, {1<<32 + 5, 1<<32 - 1}} {
		if got := toUint32(tc.in); got != tc.want {
			t.Errorf("toUint32(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestLegacyFields checks the transition of protocol v1's ESE fields: a
// request of an older host (only the old fields) reads as location and
// options, and a new host fills the old fields for an older plugin.
func TestLegacyFields(t *testing.T) {
	old := &snapshotv1.Begin_Request{Kind: snapshotv1.Kind_KIND_FULL, Source: &snapshotv1.Source{
		InstanceDir: "/i", LogDir: "/l", SystemDir: "/s", BaseName: "edb", Databases: []string{"/i/a.edb", "/i/b.edb"},
		Options: map[string]string{"writable": "true"},
	}}
	got := FromProtoBeginRequest(wire(t, old)).Source
	want := Source{Location: "/i", Options: map[string]string{"log-dir": "/l", "system-dir": "/s", "base-name": "edb",
		"database": "/i/a.edb\x00/i/b.edb", "writable": "true"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("old request read as\n %#v\nwant %#v", got, want)
	}
	m := ToProtoBeginRequest(BeginRequest{Kind: KindFull, Source: want})
	if m.Source.GetInstanceDir() != "/i" || m.Source.GetLocation() != "/i" || m.Source.GetLogDir() != "/l" || m.Source.GetSystemDir() != "/s" ||
		m.Source.GetBaseName() != "edb" || !reflect.DeepEqual(m.Source.GetDatabases(), []string{"/i/a.edb", "/i/b.edb"}) ||
		!reflect.DeepEqual(m.Source.GetOptions(), map[string]string{"writable": "true"}) {
		t.Errorf("new request for an older plugin: %v", m.Source)
	}

	oldEnd := &snapshotv1.End_Response{Recorded: "bkinfoFullPrev", Logs: &snapshotv1.LogRange{GenLow: 4, GenHigh: 7, BaseName: "edb"}}
	if l := FromProtoEndResult(wire(t, oldEnd)).LogRange(); l != (LogRange{GenLow: 4, GenHigh: 7, BaseName: "edb"}) {
		t.Errorf("old End read with log range %+v", l)
	}
	newEnd := ToProtoEndResult(EndResult{Metadata: []Metadata{LogRange{GenLow: 5, GenHigh: 6, BaseName: "SRU"}.Metadata()}})
	if l := newEnd.GetLogs(); l.GetGenLow() != 5 || l.GetGenHigh() != 6 || l.GetBaseName() != "SRU" {
		t.Errorf("new End for an older host: logs %v", l)
	}

	oldRestore := &snapshotv1.Restore_Request{BackupSetDir: "/set", LogDir: "/r/l", SystemDir: "/r",
		Logs: &snapshotv1.LogRange{GenLow: 1, GenHigh: 2, BaseName: "edb"}}
	r := FromProtoRestoreRequest(wire(t, oldRestore))
	if r.Options["log-dir"] != "/r/l" || r.Options["system-dir"] != "/r" || len(r.Options) != 2 {
		t.Errorf("old restore options %v", r.Options)
	}
	if l, ok, err := LogRangeOf(r.Metadata); !ok || err != nil || l != (LogRange{GenLow: 1, GenHigh: 2, BaseName: "edb"}) {
		t.Errorf("old restore log range %+v %v %v", l, ok, err)
	}
	nr := ToProtoRestoreRequest(r)
	if nr.GetLogDir() != "/r/l" || nr.GetSystemDir() != "/r" || nr.GetLogs().GetGenHigh() != 2 || len(nr.GetOptions()) != 0 {
		t.Errorf("new restore for an older plugin: %v", nr)
	}
}

func TestLogRangeOf(t *testing.T) {
	for _, tc := range []struct {
		name   string
		md     []Metadata
		want   LogRange
		ok     bool
		hasErr bool
	}{
		{"none", nil, LogRange{}, false, false},
		{"other type only", []Metadata{{Type: "x", Data: []byte("{}")}}, LogRange{}, false, false},
		{"found after another", []Metadata{{Type: "x"}, LogRange{GenLow: 1, GenHigh: 0x100000, BaseName: "edb"}.Metadata()}, LogRange{GenLow: 1, GenHigh: 0x100000, BaseName: "edb"}, true, false},
		{"damaged", []Metadata{{Type: MetadataLogRange, Data: []byte("{")}}, LogRange{}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := LogRangeOf(tc.md)
			if got != tc.want || ok != tc.ok || (err != nil) != tc.hasErr {
				t.Fatalf("LogRangeOf = %+v, %v, %v", got, ok, err)
			}
		})
	}
}

func TestCheckOptions(t *testing.T) {
	specs := []OptionSpec{{Name: "log-dir", Type: OptionPath, Restore: true}, {Name: "writable", Type: OptionBool}}
	for _, tc := range []struct {
		name    string
		specs   []OptionSpec
		opts    map[string]string
		restore bool
		err     string
	}{
		{"none", specs, nil, false, ""},
		{"known", specs, map[string]string{"log-dir": "/l", "writable": "true"}, false, ""},
		{"unknown", specs, map[string]string{"instance": "x"}, false, `unknown option "instance": the plugin knows log-dir, writable`},
		{"begin only in a restore", specs, map[string]string{"writable": "true"}, true, `unknown option "writable": the plugin knows log-dir`},
		{"bad bool", specs, map[string]string{"writable": "yes"}, false, `option writable="yes": want true or false`},
		{"no options at all", nil, map[string]string{"x": "1"}, false, `unknown option "x": the plugin takes no options`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckOptions(tc.specs, tc.opts, tc.restore)
			if (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
				t.Fatalf("CheckOptions = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestListOptions(t *testing.T) {
	for _, items := range [][]string{nil, {"a"}, {`C:\x y\a.edb`, "/b\nc"}} {
		if got := SplitList(JoinList(items)); !reflect.DeepEqual(got, items) {
			t.Errorf("SplitList(JoinList(%q)) = %q", items, got)
		}
	}
}
