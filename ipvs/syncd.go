package ipvs

import (
	"fmt"
	"net/netip"
	"strings"
)

// SyncState is the role of an IPVS connection synchronisation daemon:
// the kernel's IP_VS_STATE_MASTER sends the director's connection state
// over multicast, IP_VS_STATE_BACKUP receives it into the local table, so
// connections survive a failover to the backup director.
type SyncState uint32

// The kernel's values (linux/ip_vs.h).
const (
	SyncMaster SyncState = 1
	SyncBackup SyncState = 2
)

func (s SyncState) String() string {
	switch s {
	case SyncMaster:
		return "master"
	case SyncBackup:
		return "backup"
	}
	return fmt.Sprintf("state(%d)", uint32(s))
}

// SyncDaemon is one kernel sync daemon (ipvsadm --start-daemon). The zero
// MaxLen, Group, Port and TTL leave the kernel's defaults (payload sized
// from the interface MTU, 224.0.0.81, port 8848, TTL 1), and the kernel
// reports its defaults back.
type SyncDaemon struct {
	State     SyncState
	Interface string
	SyncID    uint32
	MaxLen    uint16
	Group     netip.Addr
	Port      uint16
	TTL       uint8
}

// String is the daemon as `ipvsadm -L --daemon` prints it, less the
// fields left at zero.
func (d SyncDaemon) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s sync daemon (mcast=%s, syncid=%d", d.State, d.Interface, d.SyncID)
	if d.MaxLen != 0 {
		fmt.Fprintf(&b, ", maxlen=%d", d.MaxLen)
	}
	if d.Group.IsValid() {
		fmt.Fprintf(&b, ", group=%s", d.Group)
	}
	if d.Port != 0 {
		fmt.Fprintf(&b, ", port=%d", d.Port)
	}
	if d.TTL != 0 {
		fmt.Fprintf(&b, ", ttl=%d", d.TTL)
	}
	b.WriteString(")")
	return b.String()
}

// SyncDaemonKernel is the part of the kernel adapter that starts and
// stops sync daemons (Netlink implements it).
type SyncDaemonKernel interface {
	StartSyncDaemon(SyncDaemon) error
	StopSyncDaemon(SyncState) error
	SyncDaemons() ([]SyncDaemon, error)
}
