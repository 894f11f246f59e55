package ipvs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// IPVS sync daemon commands and attributes (linux/ip_vs.h). moby/ipvs has
// none of them, so they go through the batch path's own socket.
const (
	ipvsCmdNewDaemon = 9
	ipvsCmdDelDaemon = 10
	ipvsCmdGetDaemon = 11

	ipvsCmdAttrDaemon = 3

	ipvsDaemonAttrState       = 1 // u32
	ipvsDaemonAttrMcastIfn    = 2 // NUL-terminated string
	ipvsDaemonAttrSyncID      = 3 // u32
	ipvsDaemonAttrSyncMaxLen  = 4 // u16
	ipvsDaemonAttrMcastGroup  = 5 // IPv4 address, network order
	ipvsDaemonAttrMcastGroup6 = 6 // IPv6 address
	ipvsDaemonAttrMcastPort   = 7 // u16, host order (as ipvsadm sends it)
	ipvsDaemonAttrMcastTTL    = 8 // u8

	// ifNameMax is IP_VS_IFNAME_MAXLEN less the NUL.
	ifNameMax = 15
)

var _ SyncDaemonKernel = (*Netlink)(nil)

// StartSyncDaemon starts d (IPVS_CMD_NEW_DAEMON). The kernel refuses a
// second daemon of the same state (EEXIST): stop it first to change it.
func (n *Netlink) StartSyncDaemon(d SyncDaemon) error {
	if d.State != SyncMaster && d.State != SyncBackup {
		return fmt.Errorf("start sync daemon: state %d: %w", uint32(d.State), unix.EINVAL)
	}
	if d.Interface == "" || len(d.Interface) > ifNameMax {
		return fmt.Errorf("start sync daemon: interface %q: %w", d.Interface, unix.EINVAL)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.b == nil {
		return errors.New("start sync daemon: netlink closed")
	}
	err := n.b.request(ipvsCmdNewDaemon, false, func(b []byte) []byte { return appendDaemon(b, d) }, nil)
	if err != nil {
		return fmt.Errorf("start %s: %w", d, err)
	}
	return nil
}

// StopSyncDaemon stops the daemon of state s; none running is no error.
func (n *Netlink) StopSyncDaemon(s SyncState) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.b == nil {
		return errors.New("stop sync daemon: netlink closed")
	}
	err := n.b.request(ipvsCmdDelDaemon, false, func(b []byte) []byte {
		nest := len(b)
		b = appendAttrHdr(b, ipvsCmdAttrDaemon)
		b = appendU32Attr(b, ipvsDaemonAttrState, uint32(s))
		return endNest(b, nest)
	}, nil)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop %s sync daemon: %w", s, err)
	}
	return nil
}

// SyncDaemons lists the running daemons (IPVS_CMD_GET_DAEMON), master
// first, with the settings the kernel uses (its defaults filled in).
func (n *Netlink) SyncDaemons() ([]SyncDaemon, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.b == nil {
		return nil, errors.New("list sync daemons: netlink closed")
	}
	var out []SyncDaemon
	err := n.b.request(ipvsCmdGetDaemon, true, nil, func(attrs []byte) error {
		eachAttr(attrs, func(typ uint16, v []byte) {
			if typ == ipvsCmdAttrDaemon {
				if d, ok := decodeDaemon(v); ok {
					out = append(out, d)
				}
			}
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list sync daemons: %w", err)
	}
	return out, nil
}

// appendDaemon nests d's attributes as ipvsadm's ipvs_start_daemon does:
// state, interface and sync id always, the rest only when set, so the
// kernel applies its defaults.
func appendDaemon(b []byte, d SyncDaemon) []byte {
	nest := len(b)
	b = appendAttrHdr(b, ipvsCmdAttrDaemon)
	b = appendU32Attr(b, ipvsDaemonAttrState, uint32(d.State))
	b = appendAttr(b, ipvsDaemonAttrMcastIfn, append([]byte(d.Interface), 0))
	b = appendU32Attr(b, ipvsDaemonAttrSyncID, d.SyncID)
	if d.MaxLen != 0 {
		b = appendU16Attr(b, ipvsDaemonAttrSyncMaxLen, d.MaxLen)
	}
	if g := d.Group.Unmap(); g.Is4() {
		b = appendAttr(b, ipvsDaemonAttrMcastGroup, g.AsSlice())
	} else if g.Is6() {
		b = appendAttr(b, ipvsDaemonAttrMcastGroup6, g.AsSlice())
	}
	if d.Port != 0 {
		b = appendU16Attr(b, ipvsDaemonAttrMcastPort, d.Port)
	}
	if d.TTL != 0 {
		b = appendAttr(b, ipvsDaemonAttrMcastTTL, []byte{d.TTL})
	}
	return endNest(b, nest)
}

// decodeDaemon reads one dumped daemon; ok is false without a state or
// an interface (not a daemon this package can describe).
func decodeDaemon(b []byte) (d SyncDaemon, ok bool) {
	eachAttr(b, func(typ uint16, v []byte) {
		switch typ {
		case ipvsDaemonAttrState:
			if len(v) >= 4 {
				d.State = SyncState(binary.NativeEndian.Uint32(v))
			}
		case ipvsDaemonAttrMcastIfn:
			if i := bytes.IndexByte(v, 0); i >= 0 {
				v = v[:i]
			}
			if len(v) <= ifNameMax {
				d.Interface = string(v)
			}
		case ipvsDaemonAttrSyncID:
			if len(v) >= 4 {
				d.SyncID = binary.NativeEndian.Uint32(v)
			}
		case ipvsDaemonAttrSyncMaxLen:
			if len(v) >= 2 {
				d.MaxLen = binary.NativeEndian.Uint16(v)
			}
		case ipvsDaemonAttrMcastGroup:
			if len(v) >= 4 {
				d.Group = netip.AddrFrom4([4]byte(v[:4]))
			}
		case ipvsDaemonAttrMcastGroup6:
			if len(v) >= 16 {
				d.Group = netip.AddrFrom16([16]byte(v[:16]))
			}
		case ipvsDaemonAttrMcastPort:
			if len(v) >= 2 {
				d.Port = binary.NativeEndian.Uint16(v)
			}
		case ipvsDaemonAttrMcastTTL:
			if len(v) >= 1 {
				d.TTL = v[0]
			}
		}
	})
	return d, d.State != 0 && d.Interface != ""
}
