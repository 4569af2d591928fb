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
				InstanceDir: `C:\Windows\NTDS`, LogDir: `D:\logs`, SystemDir: `C:\Windows\NTDS\sys`,
				BaseName: "edb", Databases: []string{`C:\Windows\NTDS\ntds.dit`, "b.edb"},
				Options: map[string]string{"instance": "NTDSA", "verify": "true"},
			},
		},
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
			Recorded:      "bkinfoFullPrev",
			TruncatedLogs: []string{"edb00001.log", "edb00002.log"},
			Logs:          LogRange{GenLow: 3, GenHigh: 9, BaseName: "edb"},
			Warnings:      []string{"edb00001.log was already gone"},
		},
	} {
		roundTrip(t, in, ToProtoEndResult, FromProtoEndResult)
	}
}

func TestConvertRestore(t *testing.T) {
	for _, in := range []RestoreRequest{
		{},
		{
			BackupSetDir: "/backup/set1",
			Databases: []RestoreMap{
				{DatabaseName: `C:\Windows\NTDS\ntds.dit`, NewDatabaseName: `D:\restore\ntds.dit`},
			},
			LogDir: `D:\restore\logs`, SystemDir: `D:\restore`,
			Logs:    LogRange{GenLow: 0x10, GenHigh: 0x2F, BaseName: "edb"},
			Options: map[string]string{"target-instance": "x"},
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
	src := Source{Databases: []string{"a.edb"}, Options: map[string]string{"k": "v"}}
	m := ToProtoBeginRequest(BeginRequest{Kind: KindFull, Source: src})
	m.Source.Databases[0] = "changed"
	m.Source.Options["k"] = "changed"
	if src.Databases[0] != "a.edb" || src.Options["k"] != "v" {
		t.Errorf("ToProtoBeginRequest aliases its argument: %#v", src)
	}
	back := FromProtoBeginRequest(m)
	m.Source.Databases[0] = "again"
	m.Source.Options["k"] = "again"
	if back.Source.Databases[0] != "changed" || back.Source.Options["k"] != "changed" {
		t.Errorf("FromProtoBeginRequest aliases the message: %#v", back.Source)
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
