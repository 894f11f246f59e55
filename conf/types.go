package conf

import (
	"net/netip"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Config is the validated, typed form of one lvsd HCL file. Every value has
// been parsed once (addresses, durations) and defaults have been cascaded, so
// consumers never re-validate.
type Config struct {
	// File is the path the config was read from (for messages).
	File string

	VRRP           []VRRPInstance
	VirtualServers []VirtualServer
	// Agent is nil in a director file.
	Agent *Agent

	// Warnings are non-fatal diagnostics (for example nopreempt with
	// state MASTER); `lvsd check` prints them and still exits 0.
	Warnings hcl.Diagnostics
}

// State is the initial VRRP state requested by the user.
type State string

const (
	StateMaster State = "MASTER"
	StateBackup State = "BACKUP"
)

// VRRPInstance is one vrrp_instance block.
type VRRPInstance struct {
	Name      string
	State     State // initial state wish; with Nopreempt the node still starts as backup
	Interface string
	VRID      uint8 // 1-255
	Priority  uint8 // 1-255
	Nopreempt bool
	// AdvertInt is the advertisement interval (whole seconds for v2).
	AdvertInt time.Duration
	Version   int // 2 (RFC 3768); 3 reserved for later

	// AuthType is "PASS" or "" (none).
	AuthType string
	// AuthPass is at most 8 bytes (longer is refused, never truncated).
	AuthPass string

	// VIPs are the virtual addresses; a bare address gets /32.
	VIPs []netip.Prefix

	// DeclRange is where the block starts, for messages.
	DeclRange hcl.Range
}

// VirtualServer is one virtual_server block.
type VirtualServer struct {
	Name      string
	Address   netip.AddrPort
	Protocol  string // "TCP", "UDP", "SCTP"
	Sched     string // lvs_sched: rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh
	Method    string // lvs_method: "NAT", "DR", "TUN"
	DelayLoop time.Duration

	RealServers []RealServer

	DeclRange hcl.Range
}

// RealServer is one real_server block inside a virtual_server.
type RealServer struct {
	Name    string
	Address netip.AddrPort
	Weight  int // default 1
	// TCPCheck is nil when the real server has no checker (always up).
	TCPCheck *TCPCheck

	DeclRange hcl.Range
}

// TCPCheck is a tcp_check block with defaults cascaded from the virtual
// server (delay_loop) and keepalived's defaults.
type TCPCheck struct {
	// Target is where the probe connects: connect_ip/connect_port when set,
	// else the real server's address.
	Target           netip.AddrPort
	ConnectTimeout   time.Duration // default 5s
	Retry            int           // default 1: failed attempts after the first before "down"
	DelayBeforeRetry time.Duration // default 1s
	DelayLoop        time.Duration // from the virtual server, default 60s
}

// Agent is the agent block of a real server's file.
type Agent struct {
	VIPs []netip.Addr
}
