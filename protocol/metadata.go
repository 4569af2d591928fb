package protocol

import (
	"encoding/json"
	"fmt"
)

// Metadata is one piece of plugin-specific detail: Data is encoded as Type
// says, and a host decodes only types it knows and keeps the others
// untouched.
type Metadata struct {
	// Type names the encoding of Data, such as MetadataLogRange; a
	// reverse-DNS-like name with a version suffix.
	Type string
	// Data is the encoded detail.
	Data []byte
}

// MetadataLogRange is the type of a log range in Metadata: JSON
// {"gen_low":N,"gen_high":N,"base_name":"edb"}. It is the one type the
// protocol itself defines, because protocol v1 carried the log range as a
// field of End and Restore (LogRange on the wire), which the conversions
// still fill for older peers.
const MetadataLogRange = "esesnap.log-range.v1"

type logRangeJSON struct {
	GenLow   uint32 `json:"gen_low"`
	GenHigh  uint32 `json:"gen_high"`
	BaseName string `json:"base_name"`
}

// Metadata encodes the log range as a MetadataLogRange entry.
func (l LogRange) Metadata() Metadata {
	b, err := json.Marshal(logRangeJSON(l))
	if err != nil {
		panic(err) // a struct of numbers and a string always encodes
	}
	return Metadata{Type: MetadataLogRange, Data: b}
}

// LogRangeOf decodes the first MetadataLogRange entry of md; ok is false
// when there is none, and err says why one does not decode.
func LogRangeOf(md []Metadata) (l LogRange, ok bool, err error) {
	for _, m := range md {
		if m.Type != MetadataLogRange {
			continue
		}
		var j logRangeJSON
		if err := json.Unmarshal(m.Data, &j); err != nil {
			return LogRange{}, true, fmt.Errorf("metadata %s: %w", m.Type, err)
		}
		return LogRange(j), true, nil
	}
	return LogRange{}, false, nil
}
