package protocol

import (
	"errors"
	"reflect"
	"testing"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/protocol/snapshotv1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// FuzzFromStatus feeds FromStatus statuses with arbitrary ErrorDetail bytes,
// as a broken or hostile plugin could send: it must not panic, and whatever
// detail decodes must come back as an *ese.Error with that detail's code.
func FuzzFromStatus(f *testing.F) {
	seed, _ := proto.Marshal(&snapshotv1.ErrorDetail{JetErr: -1018, Name: "JET_errReadVerifyFailure", Op: "x", Page: 5, Cause: "c"})
	f.Add(uint32(codes.DataLoss), seed)
	f.Add(uint32(codes.Canceled), []byte{})
	f.Add(uint32(99), []byte{0x08, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, code uint32, detail []byte) {
		var d snapshotv1.ErrorDetail
		if proto.Unmarshal(detail, &d) != nil {
			return
		}
		st := status.New(codes.Code(code), "fuzz")
		if code != uint32(codes.OK) {
			var err error
			if st, err = st.WithDetails(&d); err != nil {
				t.Fatal(err)
			}
		}
		got := FromStatus(st.Err())
		if code == uint32(codes.OK) {
			if got != nil {
				t.Fatalf("OK status became %v", got)
			}
			return
		}
		var e *ese.Error
		if !errors.As(got, &e) || e.Code != ese.Code(d.GetJetErr()) || e.Page != d.GetPage() {
			t.Fatalf("detail %v became %#v", &d, got)
		}
		_ = got.Error()
	})
}

// FuzzFromProto decodes arbitrary bytes as the request messages a plugin
// receives and converts them: no panic, and converting back and forth again
// is stable.
func FuzzFromProto(f *testing.F) {
	b, _ := proto.Marshal(ToProtoBeginRequest(BeginRequest{Kind: KindFull, Source: Source{Databases: []string{"a"}, Options: map[string]string{"k": "v"}}}))
	f.Add(b)
	b, _ = proto.Marshal(ToProtoRestoreRequest(RestoreRequest{Databases: []ese.RstMap{{DatabaseName: "a", NewDatabaseName: "b"}}}))
	f.Add(b)
	f.Add([]byte{0x10, 0x07})
	f.Fuzz(func(t *testing.T, data []byte) {
		var begin snapshotv1.Begin_Request
		if proto.Unmarshal(data, &begin) == nil {
			r := FromProtoBeginRequest(&begin)
			if again := FromProtoBeginRequest(ToProtoBeginRequest(r)); !reflect.DeepEqual(again, r) {
				t.Fatalf("begin request unstable: %#v vs %#v", again, r)
			}
		}
		var end snapshotv1.End_Request
		if proto.Unmarshal(data, &end) == nil {
			r := FromProtoEndRequest(&end)
			if again := FromProtoEndRequest(ToProtoEndRequest(end.GetSessionId(), r)); again != r {
				t.Fatalf("end request unstable: %#v vs %#v", again, r)
			}
		}
		var restore snapshotv1.Restore_Request
		if proto.Unmarshal(data, &restore) == nil {
			r := FromProtoRestoreRequest(&restore)
			if again := FromProtoRestoreRequest(ToProtoRestoreRequest(r)); !reflect.DeepEqual(again, r) {
				t.Fatalf("restore request unstable: %#v vs %#v", again, r)
			}
		}
		var files snapshotv1.Files_Response
		if proto.Unmarshal(data, &files) == nil {
			fs := FromProtoFiles(&files)
			if again := FromProtoFiles(ToProtoFiles(fs)); !reflect.DeepEqual(again, fs) {
				t.Fatalf("files unstable: %#v vs %#v", again, fs)
			}
		}
	})
}

// FuzzParseKind checks that parsing configuration text never panics and
// that whatever parses prints back to the same name.
func FuzzParseKind(f *testing.F) {
	for _, s := range []string{"full", "COPY", "", "unspecified", "Kind(9)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if k, err := ParseKind(s); err == nil {
			if !k.Valid() {
				t.Fatalf("ParseKind(%q) = invalid %v", s, k)
			}
			if again, err := ParseKind(k.String()); err != nil || again != k {
				t.Fatalf("ParseKind(%q) does not round trip", s)
			}
		}
		if r, err := ParseRole(s); err == nil && !r.Valid() {
			t.Fatalf("ParseRole(%q) = invalid %v", s, r)
		}
		if o, err := ParseOutcome(s); err == nil && !o.Valid() {
			t.Fatalf("ParseOutcome(%q) = invalid %v", s, o)
		}
	})
}
