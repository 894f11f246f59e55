package ipvs

import (
	"net/netip"
	"testing"
)

// The nest appendDaemon writes decodes to the same daemon, and the
// kernel's defaults (zero fields) are left out of the request.
func TestDaemonEncoding(t *testing.T) {
	for _, d := range []SyncDaemon{
		{State: SyncMaster, Interface: "eth0"},
		{State: SyncBackup, Interface: "bond0.100", SyncID: 42, MaxLen: 1400, Group: netip.MustParseAddr("239.0.0.81"), Port: 8850, TTL: 3},
		{State: SyncMaster, Interface: "veth-1234567890", Group: netip.MustParseAddr("ff02::81")},
	} {
		b := appendDaemon(nil, d)
		var got SyncDaemon
		var ok bool
		n := 0
		eachAttr(b, func(typ uint16, v []byte) {
			n++
			if typ == ipvsCmdAttrDaemon {
				got, ok = decodeDaemon(v)
			}
		})
		if n != 1 || !ok || got != d {
			t.Errorf("%v: decoded %v (ok %v, %d attributes)", d, got, ok, n)
		}
		attrs := 0
		eachAttr(b[4:], func(uint16, []byte) { attrs++ })
		want := 3
		for _, set := range []bool{d.MaxLen != 0, d.Group.IsValid(), d.Port != 0, d.TTL != 0} {
			if set {
				want++
			}
		}
		if attrs != want {
			t.Errorf("%v: %d attributes sent, want %d", d, attrs, want)
		}
	}
	if _, ok := decodeDaemon(appendDaemon(nil, SyncDaemon{Interface: "eth0"})[4:]); ok {
		t.Errorf("a daemon without state decoded")
	}
}

func TestSyncDaemonString(t *testing.T) {
	d := SyncDaemon{State: SyncBackup, Interface: "eth0", SyncID: 7, MaxLen: 1472, Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 1}
	if got, want := d.String(), "backup sync daemon (mcast=eth0, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// FuzzDecodeDaemon: whatever a dump holds, decodeDaemon neither panics nor
// reports an interface longer than the kernel's.
func FuzzDecodeDaemon(f *testing.F) {
	f.Add(appendDaemon(nil, SyncDaemon{State: SyncBackup, Interface: "eth0", SyncID: 1, Group: netip.MustParseAddr("ff02::81"), TTL: 2})[4:])
	f.Add([]byte{6, 0, 2, 0, 'e', 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, ok := decodeDaemon(b)
		if len(d.Interface) > ifNameMax || (ok && (d.State == 0 || d.Interface == "")) {
			t.Fatalf("decoded %+v ok %v", d, ok)
		}
	})
}
