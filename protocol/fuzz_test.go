package protocol

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/internal/samples"
	"github.com/esesnap/esesnap/protocol/snapshotv1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// FuzzFromStatus feeds FromStatus statuses with arbitrary ErrorDetail bytes,
// as a broken or hostile plugin could send: it must not panic, and whatever
// detail decodes must come back as an *Error with that detail's domain and
// code (domain "jet" for a detail with only the legacy jet_err) and the
// status code.
func FuzzFromStatus(f *testing.F) {
	seed, _ := proto.Marshal(&snapshotv1.ErrorDetail{JetErr: -1018, Name: "JET_errReadVerifyFailure", Op: "x", Page: 5, Cause: "c"})
	f.Add(uint32(codes.DataLoss), seed)
	// The statuses of real failures: a real page with a flipped bit, and a
	// real file that is not a log.
	for _, err := range sampleErrors(f) {
		st := status.Convert(ToStatus(err))
		for _, d := range st.Details() {
			if m, ok := d.(*snapshotv1.ErrorDetail); ok {
				b, err := proto.Marshal(m)
				if err != nil {
					f.Fatal(err)
				}
				f.Add(uint32(st.Code()), b)
			}
		}
	}
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
		domain, num := d.GetDomain(), d.GetCode()
		if domain == "" && d.GetJetErr() != 0 {
			domain, num = DomainJET, int64(d.GetJetErr())
		}
		var e *Error
		if !errors.As(got, &e) || e.Domain != domain || e.Code != num || e.Page != d.GetPage() ||
			e.Offset != d.GetOffset() || e.Status != codes.Code(code) {
			t.Fatalf("detail %v became %#v", &d, got)
		}
		_ = got.Error()
	})
}

// FuzzFromProto decodes arbitrary bytes as the request messages a plugin
// receives and converts them: no panic, and converting back and forth again
// is stable.
func FuzzFromProto(f *testing.F) {
	b, _ := proto.Marshal(ToProtoBeginRequest(BeginRequest{Kind: KindFull, Source: Source{Location: "/x", Options: map[string]string{"k": "v", "database": "a"}}}))
	f.Add(b)
	b, _ = proto.Marshal(ToProtoRestoreRequest(RestoreRequest{Databases: []RestoreMap{{DatabaseName: "a", NewDatabaseName: "b"}}}))
	f.Add(b)
	// The messages of a real sample set: what a plugin lists and is asked.
	set := samples.Path(f, "srum-win10-dirty")
	files := sampleFiles(f, set)
	b, _ = proto.Marshal(ToProtoFiles(files))
	f.Add(b)
	b, _ = proto.Marshal(ToProtoBeginRequest(BeginRequest{Kind: KindFull, Source: Source{Location: set, Options: map[string]string{"database": files[0].Name, "writable": "true"}}}))
	f.Add(b)
	b, _ = proto.Marshal(ToProtoRestoreRequest(RestoreRequest{BackupSetDir: set, Options: map[string]string{"log-dir": set, "system-dir": set},
		Databases: []RestoreMap{{DatabaseName: files[0].Name, NewDatabaseName: files[0].Name + ".restored"}},
		Metadata:  []Metadata{LogRange{GenLow: 0x4E, GenHigh: 0x51, BaseName: "SRU"}.Metadata()}}))
	f.Add(b)
	b, _ = proto.Marshal(ToProtoEndRequest("0123456789abcdef", EndRequest{Outcome: OutcomeSucceeded, TruncateLogs: true}))
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
	// Real text: the words of the samples' inventory, which names backup
	// kinds, file roles and states among much else.
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(string(samples.Read(f, "INVENTORY.md")), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '(' && r != ')'
	}) {
		if !words[w] && len(words) < 400 {
			words[w] = true
			f.Add(w)
		}
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

// sampleErrors returns real failures: a real database page with one bit
// flipped, verified as the engine would, and a real file that is not a log
// verified as one.
func sampleErrors(tb testing.TB) []error {
	db := samples.Read(tb, "srum-win10-clean/SRUDB.dat")
	const ps, pgno = 4096, 9
	page := db[(pgno+1)*ps : (pgno+2)*ps]
	page[1000] ^= 0x10
	errs := []error{format.VerifyPage(page, pgno).Err("SRUDB.dat", pgno)}
	notLog := samples.Read(tb, "srum-win10-clean/srures00002.jrs")
	_, err := format.VerifyLog(bytes.NewReader(notLog), int64(len(notLog)), "srures00002.jrs")
	errs = append(errs, err)
	for _, err := range errs {
		var e *ese.Error
		if !errors.As(err, &e) {
			tb.Fatalf("a damaged sample gave %v, not an *ese.Error", err)
		}
	}
	return errs
}

// sampleFiles lists the files of a real sample set as the ESE plugin
// reports them: databases, then logs with their generations.
func sampleFiles(tb testing.TB, dir string) []File {
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var dbs, logs []File
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			tb.Fatal(err)
		}
		f := File{Name: filepath.Join(dir, e.Name()), Size: info.Size()}
		if ln, ok := format.ParseLogName(e.Name()); ok && ln.Kind == format.LogArchived {
			f.Role, f.Generation, f.PageSize = RoleLog, ln.Gen, 4096
			logs = append(logs, f)
		} else if filepath.Ext(e.Name()) == ".dat" {
			f.Role, f.PageSize = RoleDatabase, 4096
			dbs = append(dbs, f)
		}
	}
	if len(dbs) == 0 || len(logs) == 0 {
		tb.Fatalf("%s: %d databases, %d logs", dir, len(dbs), len(logs))
	}
	return append(dbs, logs...)
}
