package protocol

import "testing"

func TestInfoSupportsAndHas(t *testing.T) {
	i := Info{Kinds: []Kind{KindFull, KindCopy}, Capabilities: []string{CapabilityVerify}}
	for _, tc := range []struct {
		kind Kind
		want bool
	}{{KindFull, true}, {KindCopy, true}, {KindIncremental, false}, {KindUnspecified, false}} {
		if got := i.Supports(tc.kind); got != tc.want {
			t.Errorf("Supports(%v) = %v, want %v", tc.kind, got, tc.want)
		}
	}
	for _, tc := range []struct {
		capability string
		want       bool
	}{{CapabilityVerify, true}, {CapabilityRestore, false}, {"", false}} {
		if got := i.Has(tc.capability); got != tc.want {
			t.Errorf("Has(%q) = %v, want %v", tc.capability, got, tc.want)
		}
	}
}
