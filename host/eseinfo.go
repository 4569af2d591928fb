package host

import (
	"encoding/hex"
	"fmt"

	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/protocol"
)

// headBytes is how much of the start of each file Backup keeps for the ESE
// metadata: one log header, which also covers a database header.
const headBytes = format.LogHeaderSize

// signatureText renders a signature for the manifest.
func signatureText(s format.Signature) SignatureText {
	var b [format.SignatureSize]byte
	s.Put(b[:])
	return SignatureText{Hex: hex.EncodeToString(b[:]), Text: s.String()}
}

// parseSignatureText decodes the Hex form of a manifest signature.
func parseSignatureText(t SignatureText) (format.Signature, error) {
	b, err := hex.DecodeString(t.Hex)
	if err != nil || len(b) != format.SignatureSize {
		return format.Signature{}, fmt.Errorf("signature %q is not %d hex-encoded bytes", t.Hex, format.SignatureSize)
	}
	return format.ParseSignature(b), nil
}

// eseCollector gathers the ESE metadata of a backup set from the first bytes
// of each streamed file. Plugins are not all ESE plugins: a set whose
// databases and logs do not all start with ESE headers gets no ESE section,
// and the reason becomes a warning.
type eseCollector struct {
	info    ESEInfo
	dbs     int
	logs    int
	notESE  error
	signLog *format.Signature
}

// add reads the header at the start of file f (head holds its first bytes)
// and fills in f's page size and generation when the plugin left them 0.
func (c *eseCollector) add(f *ManifestFile, head []byte) {
	if c.notESE != nil {
		return
	}
	switch f.Role {
	case protocol.RoleDatabase:
		h, err := format.ParseDBHeader(head)
		if err != nil {
			c.notESE = fmt.Errorf("database %s has no ESE header: %w", f.Name, err)
			return
		}
		if f.PageSize == 0 {
			f.PageSize = h.CbPage()
		}
		if c.info.PageSize == 0 {
			c.info.PageSize = h.CbPage()
		}
		if c.signLog == nil {
			s := h.SignLog
			c.signLog = &s
		}
		c.info.Databases = append(c.info.Databases, ESEDatabase{
			Name:         f.Name,
			SignDb:       signatureText(h.SignDb),
			SignLog:      signatureText(h.SignLog),
			BackupGenLow: h.BKInfoFullCur.GenLow,
			State:        h.State.String(),
		})
		c.dbs++
	case protocol.RoleLog:
		h, err := format.ParseLogHeader(head)
		if err != nil {
			c.notESE = fmt.Errorf("log %s has no ESE log header: %w", f.Name, err)
			return
		}
		if f.Generation == 0 {
			f.Generation = h.Generation
		}
		if f.PageSize == 0 {
			f.PageSize = h.PageSize()
		}
		if c.info.PageSize == 0 {
			c.info.PageSize = h.PageSize()
		}
		if c.logs == 0 {
			// The logs define the stream; a database's copy of signLog is
			// checked against them by Verify.
			s := h.SignLog
			c.signLog = &s
		}
		if c.logs == 0 || h.Generation < c.info.GenLow {
			c.info.GenLow = h.Generation
		}
		if h.Generation > c.info.GenHigh {
			c.info.GenHigh = h.Generation
		}
		if c.info.BaseName == "" {
			if ln, ok := format.ParseLogName(f.Name); ok && ln.Base != "" {
				c.info.BaseName = ln.Base
			}
		}
		c.logs++
	}
}

// result returns the ESE section, or nil with the reason the set is not an
// ESE set (nil reason when it simply has no databases or logs).
func (c *eseCollector) result() (*ESEInfo, error) {
	if c.notESE != nil {
		return nil, c.notESE
	}
	if c.dbs == 0 && c.logs == 0 {
		return nil, nil
	}
	info := c.info
	if c.signLog != nil {
		st := signatureText(*c.signLog)
		info.SignLog = &st
	}
	return &info, nil
}
