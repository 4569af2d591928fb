package format

import (
	"fmt"
	"os"
)

// ReadDBHeaderFile opens the database file at path and elects its header
// (ReadDBHeader), for callers that hold a path rather than an open file.
func ReadDBHeaderFile(path string) (*HeaderRead, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	return ReadDBHeader(f, st.Size(), path)
}
