package protocol

import (
	"slices"
	"time"
)

// Info describes a plugin: who it is and what it can do.
type Info struct {
	Name          string   // identifies the plugin, such as "esesnap-ese"
	Version       string   // the plugin's own semantic version
	Kinds         []Kind   // the backup kinds Begin accepts
	MaxChunkBytes int      // largest chunk Read sends, at most MaxChunkBytes
	Capabilities  []string // optional features, such as CapabilityRestore
	// IdleTimeout is how long a session may go without a call before the
	// plugin aborts it; 0 means the plugin does not say. A host that keeps
	// a session open for longer (a slow sink commit) sends Keepalive.
	IdleTimeout time.Duration
	// Options describes the options Begin (and, where marked, Restore)
	// accepts; a host builds its flags and help from it and refuses other
	// keys before it calls the plugin.
	Options []OptionSpec
}

// Capabilities a plugin may list in Info.Capabilities. Hosts ignore names
// they do not know, so new features need no new protocol version.
const (
	// CapabilityRestore means Restore is implemented.
	CapabilityRestore = "restore"
	// CapabilityTruncateLogs means End can truncate logs.
	CapabilityTruncateLogs = "truncate-logs"
	// CapabilityVerify means the plugin verifies what it streams (for ESE,
	// every page checksum and the log chain) and fails Read on damage.
	CapabilityVerify = "verify"
	// CapabilityKeepalive means the plugin implements SessionKeeper: a
	// Keepalive call resets a session's idle watchdog.
	CapabilityKeepalive = "keepalive"
)

// Supports reports whether Begin accepts kind k.
func (i Info) Supports(k Kind) bool { return slices.Contains(i.Kinds, k) }

// Has reports whether the plugin lists capability c.
func (i Info) Has(c string) bool { return slices.Contains(i.Capabilities, c) }
