package protocol

// Chunk sizes of Read. Data flows from the plugin to the host, whose gRPC
// receive limit go-plugin already raises, but a chunk also stays below gRPC's
// default 4 MiB message limit (with 64 KiB left for framing) so that any
// gRPC stack handles it at default settings. Sizes are multiples of 64 KiB,
// which every ESE page size (4 to 32 KiB) divides.
const (
	// MaxChunkBytes is the largest chunk a plugin may send: 4 MiB - 64 KiB.
	MaxChunkBytes = 4<<20 - 64<<10
	// DefaultChunkBytes is the chunk size used when the host proposes none:
	// 1 MiB, the largest buffer grpc-go pools and the upper end of gRPC's
	// usual streaming advice.
	DefaultChunkBytes = 1 << 20
	// MinChunkBytes is the smallest chunk size ChunkBytes picks, and the unit
	// it rounds to.
	MinChunkBytes = 64 << 10
)

// ChunkWriter receives the chunks of one file from Snapshotter.Read.
type ChunkWriter interface {
	// WriteChunk receives data found at offset in the file. Offsets start
	// at 0 and each one equals the previous offset plus the previous
	// length. data is valid only during the call. A non-nil error stops
	// Read, which returns that error.
	WriteChunk(offset int64, data []byte) error
}

// ChunkWriterFunc adapts a function to ChunkWriter.
type ChunkWriterFunc func(offset int64, data []byte) error

// WriteChunk calls f(offset, data).
func (f ChunkWriterFunc) WriteChunk(offset int64, data []byte) error { return f(offset, data) }

// ChunkBytes is the chunk size a plugin should use for a host's proposal:
// DefaultChunkBytes when proposed is 0 or less, otherwise proposed rounded
// down to a multiple of MinChunkBytes, and never below MinChunkBytes nor
// above limit, the plugin's own maximum (capped at MaxChunkBytes; limit <= 0
// means MaxChunkBytes). A plugin with stricter needs, such as whole pages of
// a large page size, adjusts the result further.
func ChunkBytes(proposed, limit int) int {
	if limit <= 0 || limit > MaxChunkBytes {
		limit = MaxChunkBytes
	}
	n := proposed
	if n <= 0 {
		n = DefaultChunkBytes
	}
	n -= n % MinChunkBytes
	if n < MinChunkBytes {
		n = MinChunkBytes
	}
	if n > limit {
		n = limit
	}
	return n
}
