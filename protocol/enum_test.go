package protocol

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/protocol/snapshotv1"
)

// enumCase is one enum type under test, seen through int32 so that one table
// covers Kind, Role and Outcome.
type enumCase struct {
	name      string
	wire      map[int32]string // the generated enum's value names
	prefix    string           // the wire names' prefix, such as "KIND_"
	str       func(int32) string
	valid     func(int32) bool
	parse     func(string) (int32, error)
	marshal   func(int32) ([]byte, error)
	unmarshal func([]byte) (int32, error)
}

var enumCases = []enumCase{
	{
		name: "Kind", wire: snapshotv1.Kind_name, prefix: "KIND_",
		str:     func(v int32) string { return Kind(v).String() },
		valid:   func(v int32) bool { return Kind(v).Valid() },
		parse:   func(s string) (int32, error) { k, err := ParseKind(s); return int32(k), err },
		marshal: func(v int32) ([]byte, error) { return Kind(v).MarshalText() },
		unmarshal: func(b []byte) (int32, error) {
			var k Kind
			err := k.UnmarshalText(b)
			return int32(k), err
		},
	},
	{
		name: "Role", wire: snapshotv1.Role_name, prefix: "ROLE_",
		str:     func(v int32) string { return Role(v).String() },
		valid:   func(v int32) bool { return Role(v).Valid() },
		parse:   func(s string) (int32, error) { r, err := ParseRole(s); return int32(r), err },
		marshal: func(v int32) ([]byte, error) { return Role(v).MarshalText() },
		unmarshal: func(b []byte) (int32, error) {
			var r Role
			err := r.UnmarshalText(b)
			return int32(r), err
		},
	},
	{
		name: "Outcome", wire: snapshotv1.Outcome_name, prefix: "OUTCOME_",
		str:     func(v int32) string { return Outcome(v).String() },
		valid:   func(v int32) bool { return Outcome(v).Valid() },
		parse:   func(s string) (int32, error) { o, err := ParseOutcome(s); return int32(o), err },
		marshal: func(v int32) ([]byte, error) { return Outcome(v).MarshalText() },
		unmarshal: func(b []byte) (int32, error) {
			var o Outcome
			err := o.UnmarshalText(b)
			return int32(o), err
		},
	},
}

// TestEnumsMatchWire checks that every Go enum value has the number and name
// of the generated wire enum, so converting is a plain numeric cast.
func TestEnumsMatchWire(t *testing.T) {
	for _, tc := range enumCases {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.wire) < 3 {
				t.Fatalf("wire enum has %d values", len(tc.wire))
			}
			for v, wireName := range tc.wire {
				want := strings.ToLower(strings.TrimPrefix(wireName, tc.prefix))
				if got := tc.str(v); got != want {
					t.Errorf("%s(%d).String() = %q, want %q (wire %s)", tc.name, v, got, want, wireName)
				}
				if got := tc.valid(v); got != (v != 0) {
					t.Errorf("%s(%d).Valid() = %v", tc.name, v, got)
				}
			}
			next := int32(len(tc.wire))
			if tc.valid(next) {
				t.Errorf("%s(%d) past the wire enum is valid", tc.name, next)
			}
			if got, want := tc.str(next), tc.name+"("; !strings.HasPrefix(got, want) {
				t.Errorf("%s(%d).String() = %q, want prefix %q", tc.name, next, got, want)
			}
		})
	}
}

// TestEnumsRoundTrip parses what String prints, in any case, and round trips
// the text encoding; the unspecified value and unknown names do not parse.
func TestEnumsRoundTrip(t *testing.T) {
	for _, tc := range enumCases {
		t.Run(tc.name, func(t *testing.T) {
			for v := range tc.wire {
				if v == 0 {
					continue
				}
				s := tc.str(v)
				for _, in := range []string{s, strings.ToUpper(s)} {
					got, err := tc.parse(in)
					if err != nil || got != v {
						t.Errorf("parse(%q) = %d, %v; want %d", in, got, err, v)
					}
				}
				b, err := tc.marshal(v)
				if err != nil {
					t.Fatalf("marshal(%d): %v", v, err)
				}
				got, err := tc.unmarshal(b)
				if err != nil || got != v {
					t.Errorf("unmarshal(%q) = %d, %v; want %d", b, got, err, v)
				}
			}
			for _, bad := range []string{"", "unspecified", "bogus", tc.prefix + "X"} {
				if got, err := tc.parse(bad); err == nil {
					t.Errorf("parse(%q) = %d, want an error", bad, got)
				}
				if _, err := tc.unmarshal([]byte(bad)); err == nil {
					t.Errorf("unmarshal(%q) succeeded", bad)
				}
			}
			for _, bad := range []int32{0, -1, int32(len(tc.wire))} {
				if b, err := tc.marshal(bad); err == nil {
					t.Errorf("marshal(%d) = %q, want an error", bad, b)
				}
			}
		})
	}
}

func TestParseKindErrorListsChoices(t *testing.T) {
	_, err := ParseKind("weekly")
	if err == nil || !strings.Contains(err.Error(), `"weekly"`) || !strings.Contains(err.Error(), "differential") {
		t.Fatalf("ParseKind(weekly) error = %v", err)
	}
}

func TestKindTruncatesLogs(t *testing.T) {
	for _, tc := range []struct {
		kind Kind
		want bool
	}{
		{KindFull, true},
		{KindIncremental, true},
		{KindCopy, false},
		{KindDifferential, false},
		{KindUnspecified, false},
	} {
		if got := tc.kind.TruncatesLogs(); got != tc.want {
			t.Errorf("%v.TruncatesLogs() = %v, want %v", tc.kind, got, tc.want)
		}
	}
}

// TestEnumsInJSON shows what a manifest holds: names, not numbers.
func TestEnumsInJSON(t *testing.T) {
	type manifest struct {
		Kind    Kind    `json:"kind"`
		Role    Role    `json:"role"`
		Outcome Outcome `json:"outcome"`
	}
	in := manifest{KindDifferential, RoleLog, OutcomeAborted}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"kind":"differential","role":"log","outcome":"aborted"}`; string(b) != want {
		t.Fatalf("json = %s, want %s", b, want)
	}
	var out manifest
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("unmarshal = %+v, %v; want %+v", out, err, in)
	}
	if err := json.Unmarshal([]byte(`{"kind":"weekly"}`), &out); err == nil {
		t.Fatal("unmarshal of an unknown kind succeeded")
	}
}
