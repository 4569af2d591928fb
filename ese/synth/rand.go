package synth

import "encoding/binary"

var le = binary.LittleEndian

// Streams of the generator: each purpose gets its own pseudo-random
// sequence derived from the seed, so changing one part of a set (say the
// number of pages) leaves the bytes of the others unchanged.
const (
	streamSignLog uint64 = iota + 1
	streamSignDb
	streamPage
	streamExtent
	streamLog
	streamTime
	streamTouch
	streamPrevXOR
)

// splitmix64 is a bijective 64-bit mixer (Steele, Lea, Flood: SplitMix),
// used to turn (seed, stream, index) into independent generator states.
func splitmix64(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ x>>30) * 0xBF58476D1CE4E5B9
	x = (x ^ x>>27) * 0x94D049BB133111EB
	return x ^ x>>31
}

// rng is a xorshift64* generator: cheap enough to fill gigabytes of page
// payload, and never cryptographic. The zero value must not be used; create
// one with newRNG.
type rng struct{ s uint64 }

// newRNG returns the generator for item index of stream under seed.
func newRNG(seed int64, stream, index uint64) rng {
	s := splitmix64(splitmix64(uint64(seed)^stream<<56) ^ index)
	if s == 0 {
		s = 0x2545F4914F6CDD1D
	}
	return rng{s}
}

// next returns the next 64 pseudo-random bits.
func (r *rng) next() uint64 {
	x := r.s
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	r.s = x
	return x * 0x2545F4914F6CDD1D
}

// intn returns a value in [0, n); n must be positive.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// fill overwrites b with pseudo-random bytes.
func (r *rng) fill(b []byte) {
	for len(b) >= 8 {
		le.PutUint64(b, r.next())
		b = b[8:]
	}
	if len(b) > 0 {
		v := r.next()
		for i := range b {
			b[i] = byte(v >> (8 * i))
		}
	}
}
