package protocol

import "testing"

func TestChunkConstants(t *testing.T) {
	const grpcDefaultLimit = 4 << 20
	if MaxChunkBytes >= grpcDefaultLimit {
		t.Errorf("MaxChunkBytes = %d, not below gRPC's default %d", MaxChunkBytes, grpcDefaultLimit)
	}
	if MaxChunkBytes != grpcDefaultLimit-64<<10 {
		t.Errorf("MaxChunkBytes = %d, want 4 MiB - 64 KiB", MaxChunkBytes)
	}
	for _, n := range []int{MaxChunkBytes, DefaultChunkBytes, MinChunkBytes} {
		if n%MinChunkBytes != 0 || n%(32<<10) != 0 {
			t.Errorf("%d is not a multiple of 64 KiB and of the largest ESE page", n)
		}
	}
	if !(MinChunkBytes <= DefaultChunkBytes && DefaultChunkBytes <= MaxChunkBytes) {
		t.Errorf("want Min <= Default <= Max, have %d, %d, %d", MinChunkBytes, DefaultChunkBytes, MaxChunkBytes)
	}
}

func TestChunkBytes(t *testing.T) {
	const kib = 1 << 10
	for _, tc := range []struct {
		name            string
		proposed, limit int
		want            int
	}{
		{"no proposal gets the default", 0, 0, DefaultChunkBytes},
		{"negative proposal gets the default", -5, 0, DefaultChunkBytes},
		{"default capped by a small plugin limit", 0, 512 * kib, 512 * kib},
		{"exact multiple kept", 256 * kib, 0, 256 * kib},
		{"rounded down to 64 KiB", 300 * kib, 0, 256 * kib},
		{"tiny proposal raised to the minimum", 1, 0, MinChunkBytes},
		{"huge proposal capped at the maximum", 64 << 20, 0, MaxChunkBytes},
		{"plugin limit wins over the proposal", 2 << 20, 1 << 20, 1 << 20},
		{"plugin limit above the maximum is capped", 8 << 20, 16 << 20, MaxChunkBytes},
		{"plugin limit below the minimum wins", 1 << 20, 32 * kib, 32 * kib},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ChunkBytes(tc.proposed, tc.limit); got != tc.want {
				t.Errorf("ChunkBytes(%d, %d) = %d, want %d", tc.proposed, tc.limit, got, tc.want)
			}
		})
	}
}
