package synth

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/esesnap/esesnap/ese/format"
)

// maxFilledSegments bounds how many segments of a log hold records; the
// rest of the file is zero, as in a log that was rolled early.
const maxFilledSegments = 4

// filledSegments returns how many segments (after the header) log gen
// fills; it is the first draw of the log's generator, which logWriter.write
// repeats.
func filledSegments(o *Options, gen uint32, csec int) int {
	r := newRNG(o.Seed, streamLog, uint64(gen))
	return 1 + r.intn(min(maxFilledSegments, csec-1))
}

// logWriter builds log files in one reused buffer of the log size.
type logWriter struct{ buf []byte }

func newLogWriter(size int) *logWriter { return &logWriter{buf: make([]byte, size)} }

// write writes the log with header h to path: the header, then a few
// segments of pseudo-random records with valid LGSEGHDRs and XOR+ECC
// checksums (the last one partly filled), then zero segments. It returns
// the XOR of the segment checksums, which the next generation's header
// carries.
func (w *logWriter) write(path string, h *format.LogHeader, seed int64) (uint64, error) {
	buf := w.buf
	clear(buf)
	h.Encode(buf[:format.LogHeaderSize])
	csec := len(buf) / format.LogSegmentSize
	r := newRNG(seed, streamLog, uint64(h.Generation))
	n := 1 + r.intn(min(maxFilledSegments, csec-1))
	created := h.Create.Time()
	var xor uint64
	for i := 1; i <= n; i++ {
		seg := buf[i*format.LogSegmentSize : (i+1)*format.LogSegmentSize]
		format.SegmentHeader{
			Pos:   format.LGPos{ISec: uint16(i), Gen: int32(h.Generation)},
			Start: format.LogTimeFrom(created.Add(time.Duration(i) * 10 * time.Millisecond)),
			Flags: format.SegmentFlagNewChecksum,
		}.Put(seg)
		body := seg[format.SegmentHeaderSize:]
		if i == n {
			body = body[:1+r.intn(len(body))]
		}
		r.fill(body)
		format.SetSegmentChecksum(seg, uint32(i))
		xor ^= le.Uint64(seg)
	}
	return xor, os.WriteFile(path, buf, 0o644)
}

// Roll simulates an engine that kept logging while the set sat on disk, for
// incremental-backup tests: the current log is renamed to its archived name,
// n new generations are written (the last as <base>.log) continuing the
// chain (tmPrevGen and checksumPrevLogAllSegments links), the checkpoint
// moves n generations forward (never past the new current log), and a dirty
// database's header then requires the new checkpoint..current range with
// the matching log creation times. A clean database is left untouched.
// set is updated to describe the result.
func Roll(set *Set, n int) error {
	if n < 0 {
		return fmt.Errorf("synth: roll %d generations", n)
	}
	if n == 0 {
		return nil
	}
	o := &set.Options
	if uint64(set.CurrentGen)+uint64(n) > maxGen {
		return fmt.Errorf("synth: roll: generation %d+%d exceeds %d", set.CurrentGen, n, maxGen)
	}
	cur := set.CurrentLogPath()
	prev, err := format.VerifyLogFile(cur)
	if err != nil {
		return fmt.Errorf("synth: roll: %w", err)
	}
	if prev.Header.Generation != set.CurrentGen {
		return fmt.Errorf("synth: roll: %s is generation %d, the set says %d", cur, prev.Header.Generation, set.CurrentGen)
	}
	newCur := set.CurrentGen + uint32(n)
	newCkpt := min(set.CheckpointGen+uint32(n), newCur)

	archived := set.archivedLogPath(set.CurrentGen)
	if err := os.Rename(cur, archived); err != nil {
		return fmt.Errorf("synth: roll: %w", err)
	}
	paths := append([]string(nil), set.LogPaths[:len(set.LogPaths)-1]...)
	paths = append(paths, archived)

	lw := newLogWriter(int(prev.Header.FileSize()))
	h := *prev.Header
	prevXOR := prev.AllSegmentsXOR
	for g := set.CurrentGen + 1; g <= newCur; g++ {
		h.Generation = g
		h.PrevGen = h.Create
		h.Create = logCreate(o, g)
		h.ChecksumPrevLogAllSegments = prevXOR
		h.LgposCheckpoint = format.LGPos{Gen: int32(checkpointAt(g, newCkpt)), ISec: 1}
		path := set.archivedLogPath(g)
		if g == newCur {
			path = cur
		}
		if prevXOR, err = lw.write(path, &h, o.Seed); err != nil {
			return fmt.Errorf("synth: roll: log %s: %w", path, err)
		}
		paths = append(paths, path)
	}
	set.LogPaths = paths
	set.CurrentGen = newCur

	c, err := format.ReadCheckpoint(set.CheckpointPath)
	if err != nil {
		return fmt.Errorf("synth: roll: %w", err)
	}
	c.LgposCheckpoint = format.LGPos{Gen: int32(newCkpt), ISec: 1}
	if err := os.WriteFile(set.CheckpointPath, c.Encode(), 0o644); err != nil {
		return fmt.Errorf("synth: roll: checkpoint: %w", err)
	}
	set.CheckpointGen = newCkpt

	if set.State == format.DBStateCleanShutdown {
		return nil
	}
	if err := updateRequired(set.DBPath, o, newCkpt, newCur); err != nil {
		return fmt.Errorf("synth: roll: database %s: %w", set.DBPath, err)
	}
	return nil
}

// updateRequired rewrites the header of the dirty database at path so that
// it requires generations lo..hi.
func updateRequired(path string, o *Options, lo, hi uint32) (err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	hr, err := format.ReadDBHeader(f, fi.Size(), path)
	if err != nil {
		return err
	}
	if hr.Header.State.Consistent() {
		return errors.New("database is clean; only a dirty header requires logs")
	}
	setRequired(hr.Header, o, lo, hi)
	return writeHeader(f, hr.Header, hr.Page)
}
