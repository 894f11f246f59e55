package conf

import (
	"net/netip"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Config is the validated, typed form of one lvsd HCL file. Every value has
// been parsed once (addresses, durations) and defaults have been cascaded, so
// consumers never re-validate.
type Config struct {
	// File is the path the config was read from (for messages).
	File string

	VRRP        []VRRPInstance
	VRRPScripts []VRRPScript // vrrp_script blocks (vrrp_track.go)
	SyncGroups  []SyncGroup  // vrrp_sync_group blocks
	// VRRPTrackFiles are the vrrp_track_file blocks (vrrp_trackfile.go).
	VRRPTrackFiles []VRRPTrackFile
	// VRRPTrackProcesses are the vrrp_track_process blocks (vrrp_trackproc.go).
	VRRPTrackProcesses []VRRPTrackProcess
	VirtualServers     []VirtualServer
	// LVSTimeouts is the lvs_timeouts block; nil = the kernel's timeouts
	// are not managed.
	LVSTimeouts *LVSTimeouts
	// LVSSyncDaemon is the lvs_sync_daemon block; nil = no sync daemon.
	LVSSyncDaemon *LVSSyncDaemon
	// Agent is nil in a director file.
	Agent *Agent
	// HTTP is the http block (nil: no HTTP endpoint).
	HTTP *HTTP

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
	// AdvertInt is the advertisement interval (whole seconds for v2,
	// centiseconds 10ms-40.95s for v3).
	AdvertInt time.Duration
	Version   int // 2 (RFC 3768) or 3 (RFC 5798, IPv4)
	// V3ChecksumAsV2: v3 checksum over the VRRP message only, without the
	// IP pseudo-header (keepalived's v3_checksum_as_v2, for some vendors).
	V3ChecksumAsV2 bool

	// AuthType is "PASS" or "" (none).
	AuthType string
	// AuthPass is at most 8 bytes (longer is refused, never truncated).
	AuthPass string

	// VIPs are the virtual addresses the adverts carry; a bare address
	// gets /32 (/128).
	VIPs []netip.Prefix
	// Addresses are every address the master installs: the VIPs, in
	// order, then virtual_ipaddress_excluded, each with its device and
	// label. Empty (a VRRPInstance built by hand) = the VIPs on
	// Interface.
	Addresses []VIPAddr

	// UnicastSrcIP is the source address of our adverts (unicast_src_ip,
	// alias mcast_src_ip); invalid (zero) = the interface's primary IPv4
	// address. It is also the tie breaker between equal priorities.
	UnicastSrcIP netip.Addr
	// UnicastPeers, when non-empty, switches the instance to unicast: adverts
	// go to each peer instead of 224.0.0.18 and are accepted only from them.
	// nil = multicast. An empty unicast_peer list is refused by Load, never
	// a silent fall back to multicast (keepalived fault 11).
	UnicastPeers []netip.Addr
	// PreemptDelay: after startup or becoming backup, a lower-priority
	// master is still accepted for this long before we preempt it (0 = no
	// delay; meaningless with Nopreempt).
	PreemptDelay time.Duration
	// GARPMasterDelay is the delay of the second gratuitous ARP burst after
	// becoming master (default 5s, 0 = no second burst).
	GARPMasterDelay time.Duration
	// GARPMasterRepeat is the number of gratuitous ARPs per VIP in a burst
	// (default 5).
	GARPMasterRepeat int
	// GARPMasterRefresh: while master, one gratuitous ARP per VIP this often
	// (default 0 = off).
	GARPMasterRefresh time.Duration

	// TrackInterfaces and TrackScripts are the tracked objects
	// (vrrp_track.go); DontTrackPrimary stops the implicit tracking of
	// Interface (keepalived's dont_track_primary).
	TrackInterfaces  []TrackInterface
	TrackScripts     []TrackScript
	DontTrackPrimary bool
	// TrackFiles are the track_file references (vrrp_trackfile.go).
	TrackFiles []TrackFile
	// TrackProcesses are the track_process references (vrrp_trackproc.go).
	TrackProcesses []TrackProcess
	// Notify are the instance's notify scripts.
	Notify Notify

	// DeclRange is where the block starts, for messages.
	DeclRange hcl.Range

	// trackScriptDefault: indexes of TrackScripts without their own weight,
	// filled while decoding and cleared by resolveTracking.
	trackScriptDefault []int
	// trackFileRefs: which attributes each TrackFiles entry set, cleared
	// by resolveTrackFiles.
	trackFileRefs []trackFileRef
	trackProcRefs []trackFileRef
}

// VirtualServer is one virtual_server block.
type VirtualServer struct {
	Name string
	// Address is the service address; for a fwmark service it is the
	// unspecified address of its ip_family with port 0 (0.0.0.0:0 or
	// [::]:0), so Address.Addr() still tells the family.
	Address netip.AddrPort
	// FWMark, when not 0, makes this a firewall-mark service (keepalived's
	// "virtual_server fwmark N"): packets the firewall marked N, whatever
	// their address, protocol and port.
	FWMark   uint32
	Protocol string // "TCP", "UDP", "SCTP"
	Sched    string // lvs_sched: rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh
	// SchedFlags are the lvs_flags (keepalived's flag keywords), lower
	// case: sh-fallback sh-port (sh only), mh-fallback mh-port (mh only),
	// flag-1 flag-2 flag-3, ops (UDP and fwmark services only).
	SchedFlags []string
	Method     string // lvs_method: "NAT", "DR", "TUN"; the real servers' default
	DelayLoop  time.Duration
	// PersistenceTimeout > 0 makes the service persistent: IPVS sends a
	// client (or its PersistenceGranularity network) to the same real
	// server while a connection or template younger than this exists.
	// Whole seconds, 1s to 2^31-1 s. 0 = not persistent.
	PersistenceTimeout time.Duration
	// PersistenceGranularity is the prefix length of the client addresses
	// that share persistence (IPv4 0-32, IPv6 0-128); the full length of
	// the address family when not set. Only meaningful when persistent.
	PersistenceGranularity int
	// InhibitOnFailure is the default of its real servers' own setting.
	InhibitOnFailure bool
	// Membership: sorry server, quorum, alpha/omega, drain (membership.go).
	Membership

	RealServers []RealServer

	DeclRange hcl.Range

	// Rev identifies one decoding of the block. A Cache hands back a
	// block it did not parse again with the Rev it had, so two virtual
	// servers with the same nonzero Rev differ at most in their source
	// positions: a reload compares 10k virtual servers by Rev instead of
	// field by field. 0: not made by the parser (compare the fields).
	Rev uint64
}

// DestAddr is the address IPVS is given for a destination at addr that
// vs forwards to with method. Only NAT rewrites the destination port: DR
// and TUN deliver the packet as the client sent it, and keepalived
// (check/ipvswrapper.c) like ipvsadm programs such a destination with the
// service's port, 0 for a firewall-mark service, whatever port the
// real_server names (its checks still connect to that one). lvsd programs
// the same, so that it takes over a table keepalived made from the same
// config without a change.
func (vs *VirtualServer) DestAddr(addr netip.AddrPort, method string) netip.AddrPort {
	if method == "NAT" {
		return addr
	}
	var port uint16
	if vs.FWMark == 0 {
		port = vs.Address.Port()
	}
	return netip.AddrPortFrom(addr.Addr(), port)
}

// DestAddrOf is DestAddr for one of vs's real servers (its own method,
// else the virtual server's).
func (vs *VirtualServer) DestAddrOf(rs *RealServer) netip.AddrPort {
	m := rs.Method
	if m == "" {
		m = vs.Method
	}
	return vs.DestAddr(rs.Address, m)
}

// RealServer is one real_server block inside a virtual_server.
type RealServer struct {
	Name    string
	Address netip.AddrPort
	Weight  int // default 1
	// Method is the forwarding method (lvs_method), cascaded from the
	// virtual server when not set.
	Method string
	// UThreshold and LThreshold are the connection thresholds
	// (uthreshold/lthreshold): no new connections at UThreshold, again
	// below LThreshold. 0 = none.
	UThreshold uint32
	LThreshold uint32
	// InhibitOnFailure keeps the server in IPVS with weight 0 while it is
	// down instead of removing it (keepalived's inhibit_on_failure): no new
	// connections, but established ones are not cut off. Cascaded from the
	// virtual server when not set.
	InhibitOnFailure bool
	// Checks are the real server's checkers in file order; all must pass
	// for the server to be up. Empty = no checker (always up).
	Checks []Check
	// Notify holds the programs run when the server comes up or goes
	// down (notify_up / notify_down); nil when it has neither. A pointer,
	// not two slices: 100,000 real servers without them cost 8 bytes each
	// instead of 48.
	Notify *RSNotify

	// DeclRange is where the block starts, in the virtual server's file.
	// A Pos, not an hcl.Range (64 bytes): a director at 10k services holds
	// 100,000 real servers.
	DeclRange Pos
}

// RSNotify are a real server's notify programs (argv, split like
// misc_path, run without a shell), as keepalived's notify_up and
// notify_down; nil = none.
type RSNotify struct {
	Up, Down []string
}

// NotifyUp is rs's notify_up program, nil if none.
func (rs *RealServer) NotifyUp() []string {
	if rs.Notify == nil {
		return nil
	}
	return rs.Notify.Up
}

// NotifyDown is rs's notify_down program, nil if none.
func (rs *RealServer) NotifyDown() []string {
	if rs.Notify == nil {
		return nil
	}
	return rs.Notify.Down
}

// Pos is a compact source position (8 bytes): where a block starts, in the
// file of the block that holds it (a real server's is its virtual
// server's DeclRange.Filename), for a block a config holds many of. With
// the file name (a string header, 16 bytes) a RealServer was 144 bytes,
// and the ten of a virtual server took a 1,536-byte allocation instead of
// 1,280: 2.5 MB of the live heap at 10k services, 4 MB of the peak at
// GOGC 50. Range gives the hcl.Range for a diagnostic.
type Pos struct {
	Line, Column uint32
}

// PosOf is where r starts.
func PosOf(r hcl.Range) Pos {
	return Pos{Line: uint32(r.Start.Line), Column: uint32(r.Start.Column)}
}

// Range is p in filename as an empty hcl.Range (no byte offset), for a
// diagnostic's subject.
func (p Pos) Range(filename string) hcl.Range {
	pos := hcl.Pos{Line: int(p.Line), Column: int(p.Column)}
	return hcl.Range{Filename: filename, Start: pos, End: pos}
}

// Check kinds (Check.Kind), one per checker block.
const (
	CheckTCP   = "tcp"   // tcp_check
	CheckMySQL = "mysql" // mysql_check
	CheckHTTP  = "http"  // http_get
	CheckSSL   = "ssl"   // ssl_get
	CheckMisc  = "misc"  // misc_check
	CheckUDP   = "udp"   // udp_check
	CheckDNS   = "dns"   // dns_check
)

// Check is one checker block (tcp_check, mysql_check, http_get, ssl_get,
// misc_check)
// with the common options cascaded from the virtual server (delay_loop) and
// keepalived's defaults. Exactly the pointer field of its Kind is set (none
// for tcp). Compare Checks with Equal, not ==.
type Check struct {
	Kind string // CheckTCP, CheckMySQL, CheckHTTP, CheckSSL or CheckMisc
	// Target is where the probe connects: connect_ip/connect_port when set,
	// else the real server's address.
	Target netip.AddrPort
	// BindTo and BindPort are the probe's source address and port
	// (keepalived's bindto and bind_port): the zero Addr and 0 leave them
	// to the kernel. BindTo has Target's family (Load checks it).
	BindTo           netip.Addr
	BindPort         uint16
	ConnectTimeout   time.Duration // default 5s
	Retry            int           // default 1: failed attempts after the first before "down"
	DelayBeforeRetry time.Duration // default 1s
	DelayLoop        time.Duration // from the virtual server, default 60s
	// Rise is the number of consecutive successes, delay_loop apart, that
	// bring a down server back (default 1, keepalived's behaviour). fall
	// in the file is another spelling of retry: fall = retry + 1.
	Rise int
	// Warmup bounds the random delay before the first check (keepalived's
	// warmup): 0 = unset, the delay_loop; < 0 = first check at once
	// (warmup = 0 in the file).
	Warmup time.Duration

	MySQL *MySQLCheck // Kind CheckMySQL
	HTTP  *HTTPCheck  // Kind CheckHTTP and CheckSSL
	Misc  *MiscCheck  // Kind CheckMisc
	UDP   *UDPCheck   // Kind CheckUDP
	DNS   *DNSCheck   // Kind CheckDNS
}

// Equal reports whether two checks have the same settings (pointer fields
// compared by value).
func (c Check) Equal(o Check) bool {
	a, b := c, o
	a.MySQL, a.HTTP, a.Misc, b.MySQL, b.HTTP, b.Misc = nil, nil, nil, nil, nil, nil
	a.UDP, a.DNS, b.UDP, b.DNS = nil, nil, nil, nil
	if a != b {
		return false
	}
	return c.MySQL.equal(o.MySQL) && c.HTTP.equal(o.HTTP) && c.Misc.equal(o.Misc) &&
		c.UDP.equal(o.UDP) && c.DNS.equal(o.DNS)
}

// UDPCheck is the udp_check part of a Check (keepalived's UDP_CHECK): a
// datagram is sent; an ICMP error (port unreachable) is down. Without
// RequireReply, silence until connect_timeout is up; with it, a reply must
// come, MinReplyLen-MaxReplyLen bytes long, starting with Reply and matching
// ReplyRegex when they are set.
type UDPCheck struct {
	Payload      []byte // payload, hex in the file; empty = an empty datagram
	RequireReply bool
	Reply        []byte // prefix the reply must start with (hex in the file)
	ReplyRegex   string // RE2 over the reply bytes, checked by Load
	MinReplyLen  int    // default 0
	MaxReplyLen  int    // default 255, keepalived's
}

func (u *UDPCheck) equal(o *UDPCheck) bool {
	if u == nil || o == nil {
		return u == o
	}
	return slices.Equal(u.Payload, o.Payload) && u.RequireReply == o.RequireReply &&
		slices.Equal(u.Reply, o.Reply) && u.ReplyRegex == o.ReplyRegex &&
		u.MinReplyLen == o.MinReplyLen && u.MaxReplyLen == o.MaxReplyLen
}

// DNSCheck is the dns_check part of a Check (keepalived's DNS_CHECK): one
// query over UDP, recursion desired; a response with the query's ID and
// RCODE NOERROR is up.
type DNSCheck struct {
	Type string // A NS CNAME SOA MX TXT AAAA, default SOA
	Name string // default ".", the root
}

func (d *DNSCheck) equal(o *DNSCheck) bool {
	if d == nil || o == nil {
		return d == o
	}
	return *d == *o
}

// MiscCheck is the misc_check part of a Check: a program whose exit code is
// the verdict (0 up, anything else down). ConnectTimeout, connect_ip and
// connect_port do not apply to it.
type MiscCheck struct {
	// Path is misc_path as written; Argv is it split into words
	// (SplitCommand): Argv[0] is an absolute path, run without a shell.
	Path string
	Argv []string
	// Timeout bounds one run (misc_timeout, default the delay_loop); the
	// whole process group is killed when it expires.
	Timeout time.Duration
	// User runs the program under this account (name or numeric uid) with
	// its primary group; "" = lvsd's own (root).
	User string
	// Dynamic is keepalived's misc_dynamic: exit codes 2-255 are up with
	// weight code - 2; 0 is up with the configured weight, 1 down.
	Dynamic bool
}

func (m *MiscCheck) equal(o *MiscCheck) bool {
	if m == nil || o == nil {
		return m == o
	}
	return m.Path == o.Path && slices.Equal(m.Argv, o.Argv) && m.Timeout == o.Timeout && m.User == o.User && m.Dynamic == o.Dynamic
}

// MySQLCheck is the mysql_check part of a Check.
type MySQLCheck struct {
	User string
	// Password may be empty (a user without password, like seed 000's
	// haproxy_check). It is never logged nor shown in status: String and
	// LogValue redact it.
	Password string
	// Query, when set, must return at least one row.
	Query string
	// Replication, when set, requires Slave_IO_Running and
	// Slave_SQL_Running both Yes and Seconds_Behind_Master <= MaxLag.
	Replication *Replication
	// ReadOnly, when set, is the value @@read_only must have.
	ReadOnly *bool
}

// Replication is the replication block of a mysql_check.
type Replication struct {
	MaxLag time.Duration // default 30s
}

func (m *MySQLCheck) equal(o *MySQLCheck) bool {
	if m == nil || o == nil {
		return m == o
	}
	if m.User != o.User || m.Password != o.Password || m.Query != o.Query {
		return false
	}
	if (m.Replication == nil) != (o.Replication == nil) || (m.Replication != nil && *m.Replication != *o.Replication) {
		return false
	}
	return (m.ReadOnly == nil) == (o.ReadOnly == nil) && (m.ReadOnly == nil || *m.ReadOnly == *o.ReadOnly)
}

// String shows the check without its password.
func (m MySQLCheck) String() string {
	s := "mysql_check user=" + m.User
	if m.Password != "" {
		s += " password=REDACTED"
	}
	return s
}

// HTTPCheck is the http_get / ssl_get part of a Check.
type HTTPCheck struct {
	Path        string // default "/"
	StatusCodes []int  // default [200]; each 100-599
	// BodyRegex, when set, must match the body (RE2 syntax, checked by Load).
	BodyRegex string
	// Digest, when set, is the MD5 of the body in lower-case hex
	// (keepalived's digest, as printed by genhash or md5sum).
	Digest string
	// VirtualHost, when set, is the Host header.
	VirtualHost string

	// ssl_get only.
	// CAFile is a PEM bundle of the CAs to trust instead of the system's;
	// read by the checker (an unreadable file fails the check, it is not a
	// parse error).
	CAFile string
	// ServerName is the TLS server name (SNI and verification); default the
	// virtualhost, else the target's IP.
	ServerName string
	// InsecureSkipVerify turns certificate verification off (default on).
	InsecureSkipVerify bool
}

func (h *HTTPCheck) equal(o *HTTPCheck) bool {
	if h == nil || o == nil {
		return h == o
	}
	return h.Path == o.Path && slices.Equal(h.StatusCodes, o.StatusCodes) &&
		h.BodyRegex == o.BodyRegex && h.Digest == o.Digest && h.VirtualHost == o.VirtualHost &&
		h.CAFile == o.CAFile && h.ServerName == o.ServerName &&
		h.InsecureSkipVerify == o.InsecureSkipVerify
}

// Agent is the agent block of a real server's file.
type Agent struct {
	VIPs []netip.Addr
}

// VIPAddr is one address a VRRP master installs (keepalived's
// virtual_ipaddress / virtual_ipaddress_excluded entry "IP[/len] [dev IF]
// [label LABEL]").
type VIPAddr struct {
	Prefix netip.Prefix
	// Dev is the interface it goes on; "" = the instance's interface.
	Dev string
	// Label is the IPv4 address label (ip addr ... label L); "" = none.
	Label string
	// Excluded addresses are installed with the VIPs but not carried in
	// adverts (virtual_ipaddress_excluded): they may be of the other
	// family, and peers do not compare them.
	Excluded bool
}

// InstallAddrs is what the master of vi installs: Addresses, or the VIPs
// on the instance's interface when Addresses is empty.
func (vi VRRPInstance) InstallAddrs() []VIPAddr {
	if len(vi.Addresses) > 0 {
		return vi.Addresses
	}
	out := make([]VIPAddr, len(vi.VIPs))
	for i, p := range vi.VIPs {
		out[i] = VIPAddr{Prefix: p}
	}
	return out
}
