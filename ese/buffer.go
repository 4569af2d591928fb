package ese

import "unsafe"

// ReadAlignment is the buffer alignment JetReadFileInstance demands: the OS
// page size (4 KiB on x86, x64 and ARM64), not the database page size.
const ReadAlignment = 4096

// AlignedBuffer returns a zeroed slice of n bytes whose first byte is
// ReadAlignment-aligned. Go's allocator does not promise that for ordinary
// slices, and ESE rejects unaligned buffers with JET_errInvalidParameter.
func AlignedBuffer(n int) []byte {
	raw := make([]byte, n+ReadAlignment)
	off := 0
	if r := int(uintptr(unsafe.Pointer(&raw[0])) % ReadAlignment); r != 0 {
		off = ReadAlignment - r
	}
	return raw[off : off+n : off+n]
}

// Aligned reports whether buf starts on a ReadAlignment boundary.
func Aligned(buf []byte) bool {
	if len(buf) == 0 {
		return true
	}
	return uintptr(unsafe.Pointer(&buf[0]))%ReadAlignment == 0
}
