package vrrp

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lvsd/lvsd/conf"
)

type fakePacket struct {
	b   []byte
	ttl int
	src netip.Addr
	dst netip.Addr // zero: Group
	err error
}

type fake struct {
	in     chan fakePacket
	closed chan struct{}
	once   sync.Once

	mu    sync.Mutex
	sent  []Advert
	ops   []string // "add 192.0.2.100/32", "del ...", "garp 192.0.2.100"
	vipOn bool

	links *fakeLinks
}

func newFake() *fake {
	return &fake{in: make(chan fakePacket, 16), closed: make(chan struct{}), links: &fakeLinks{}}
}

func (f *fake) ReadAdvert(b []byte) (int, int, netip.Addr, netip.Addr, error) {
	select {
	case p := <-f.in:
		if p.err != nil {
			return 0, 0, netip.Addr{}, netip.Addr{}, p.err
		}
		if !p.dst.IsValid() {
			p.dst = Group
		}
		return copy(b, p.b), p.ttl, p.src, p.dst, nil
	case <-f.closed:
		return 0, 0, netip.Addr{}, netip.Addr{}, errors.New("closed")
	}
}

func (f *fake) WriteAdvert(b []byte) error {
	var a Advert
	if err := a.UnmarshalBinary(b); err != nil {
		return err
	}
	f.mu.Lock()
	f.sent = append(f.sent, a)
	f.mu.Unlock()
	return nil
}

func (f *fake) LocalAddr() netip.Addr { return ipLow }
func (f *fake) Close() error          { f.once.Do(func() { close(f.closed) }); return nil }

func fakeAddr(a conf.VIPAddr) string {
	if a.Dev != "" {
		return a.Prefix.String() + " dev " + a.Dev
	}
	return a.Prefix.String()
}

func (f *fake) AddVIP(a conf.VIPAddr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, "add "+fakeAddr(a))
	f.vipOn = true
	return nil
}

func (f *fake) RemoveVIP(a conf.VIPAddr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, "del "+fakeAddr(a))
	f.vipOn = false
	return nil
}

func (f *fake) GARP(dev string, ip netip.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if dev != "" {
		f.ops = append(f.ops, "garp "+ip.String()+" dev "+dev)
		return nil
	}
	f.ops = append(f.ops, "garp "+ip.String())
	return nil
}

type fakeARP struct{ *fake }

func (fakeARP) Close() error { return nil }

func (f *fake) snapshot() (sent []Advert, ops []string, vipOn bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Advert(nil), f.sent...), append([]string(nil), f.ops...), f.vipOn
}

func startFake(t *testing.T, cfg conf.VRRPInstance) (*Instance, *fake, context.CancelFunc, chan error) {
	t.Helper()
	f := newFake()
	inst, err := newInstance(cfg, nil, func(conf.VRRPInstance) (*system, error) {
		return &system{conn: f, vips: fakeARP{f}, arp: fakeARP{f}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	inst.links = f.links
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- inst.Run(ctx) }()
	synctest.Wait()
	return inst, f, cancel, done
}

// fakeLinks is a LinkWatcher whose links are all up until set.
type fakeLinks struct {
	mu    sync.Mutex
	state map[string]bool
	fs    []func(string, bool)
}

func (l *fakeLinks) Watch(_ context.Context, names []string, f func(string, bool)) (map[string]bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fs = append(l.fs, f)
	out := map[string]bool{}
	for _, n := range names {
		up, ok := l.state[n]
		out[n] = up || !ok
	}
	return out, nil
}

// set changes a link's state and reports it, as netlink would.
func (l *fakeLinks) set(name string, up bool) {
	l.mu.Lock()
	if l.state == nil {
		l.state = map[string]bool{}
	}
	l.state[name] = up
	fs := l.fs
	l.mu.Unlock()
	for _, f := range fs {
		f(name, up)
	}
}

func count(ops []string, s string) int {
	n := 0
	for _, o := range ops {
		if o == s {
			n++
		}
	}
	return n
}

func TestInstanceBecomesMasterAndShutsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		inst, f, cancel, done := startFake(t, cfg)
		if st := inst.Status(); st.State != "BACKUP" {
			t.Fatalf("state %s", st.State)
		}
		down := params(cfg.Priority).MasterDownInterval()
		time.Sleep(down - time.Millisecond) // fake clock: synctest bubble
		synctest.Wait()
		if sent, _, _ := f.snapshot(); len(sent) != 0 || inst.Status().State != "BACKUP" {
			t.Fatalf("too early: sent %d, %s", len(sent), inst.Status().State)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		st := inst.Status()
		if st.State != "MASTER" || st.MasterIP != ipLow.String() || st.Transitions != 2 {
			t.Fatalf("status %+v", st)
		}
		sent, ops, on := f.snapshot()
		if len(sent) != 1 || sent[0].Priority != 100 || sent[0].VRID != 51 || sent[0].AuthData != [8]byte{'s', 'e', 'c', 'r', 'e', 't'} {
			t.Fatalf("first advert %+v", sent)
		}
		if !on || count(ops, "garp 192.0.2.100") != garpRepeat {
			t.Fatalf("ops %q", ops)
		}
		// One advert per second, and a second GARP burst after 5 s.
		time.Sleep(10 * time.Second)
		synctest.Wait()
		sent, ops, _ = f.snapshot()
		if len(sent) != 11 || count(ops, "garp 192.0.2.100") != 2*garpRepeat {
			t.Fatalf("after 10s: %d adverts, ops %q", len(sent), ops)
		}
		if st := inst.Status(); st.TxAdverts != 11 {
			t.Fatalf("tx %d", st.TxAdverts)
		}

		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		sent, ops, on = f.snapshot()
		if last := sent[len(sent)-1]; last.Priority != 0 {
			t.Fatalf("last advert priority %d, want 0", last.Priority)
		}
		if on || ops[len(ops)-1] != "del 192.0.2.100/32" {
			t.Fatalf("VIP not removed: %q", ops)
		}
		if inst.Status().State != "INIT" {
			t.Fatalf("state after Run: %s", inst.Status().State)
		}
	})
}

func advertBytes(t *testing.T, mut func(*Advert)) []byte {
	a := testAdvert()
	mut(a)
	b, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInstanceStaysBackupAndCountsDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inst, f, cancel, done := startFake(t, testConfig())
		higher := advertBytes(t, func(a *Advert) { a.Priority = 200 })
		badPass := advertBytes(t, func(a *Advert) { a.Priority = 200; a.AuthData[0] = 'S' })
		otherVRID := advertBytes(t, func(a *Advert) { a.VRID = 7 })
		for range 20 {
			f.in <- fakePacket{b: higher, ttl: 255, src: ipHigh}
			f.in <- fakePacket{b: higher, ttl: 64, src: ipHigh}
			f.in <- fakePacket{b: badPass, ttl: 255, src: ipHigh}
			f.in <- fakePacket{b: otherVRID, ttl: 255, src: ipHigh}
			time.Sleep(time.Second)
			synctest.Wait()
		}
		st := inst.Status()
		want := map[string]uint64{"ttl": 20, "auth_pass": 20}
		if st.State != "BACKUP" || st.MasterIP != ipHigh.String() || st.RxAdverts != 20 || !reflect.DeepEqual(st.Drops, want) {
			t.Fatalf("status %+v", st)
		}
		if sent, _, on := f.snapshot(); len(sent) != 0 || on {
			t.Fatalf("backup sent %d adverts, vip %v", len(sent), on)
		}
		// Status is JSON with snake_case keys.
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		for _, k := range []string{"name", "vrid", "interface", "state", "priority", "vips", "master_ip", "transitions", "last_transition", "rx_adverts", "tx_adverts", "drops"} {
			if _, ok := m[k]; !ok {
				t.Errorf("json lacks %q: %s", k, b)
			}
		}
		// The master stops with priority 0: we take over after Skew_Time.
		f.in <- fakePacket{b: advertBytes(t, func(a *Advert) { a.Priority = 0 }), ttl: 255, src: ipHigh}
		synctest.Wait()
		time.Sleep(params(100).SkewTime())
		synctest.Wait()
		if inst.Status().State != "MASTER" {
			t.Fatalf("no takeover after priority 0: %s", inst.Status().State)
		}
		cancel()
		<-done
	})
}

func TestInstancePreemptedByHigher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.State = conf.StateMaster
		inst, f, cancel, done := startFake(t, cfg)
		if inst.Status().State != "MASTER" {
			t.Fatalf("state %s", inst.Status().State)
		}
		f.in <- fakePacket{b: advertBytes(t, func(a *Advert) { a.Priority = 101 }), ttl: 255, src: ipHigh}
		synctest.Wait()
		st := inst.Status()
		if st.State != "BACKUP" || st.MasterIP != ipHigh.String() {
			t.Fatalf("status %+v", st)
		}
		if _, _, on := f.snapshot(); on {
			t.Fatal("VIP still on")
		}
		cancel()
		<-done
	})
}

func TestInstanceReadErrorEndsRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.State = conf.StateMaster
		_, f, cancel, done := startFake(t, cfg)
		defer cancel()
		f.in <- fakePacket{err: errors.New("boom")}
		err := <-done
		if err == nil {
			t.Fatal("Run returned nil after a read error")
		}
		sent, _, on := f.snapshot()
		if on || sent[len(sent)-1].Priority != 0 {
			t.Fatalf("not released: vip %v, last advert %+v", on, sent[len(sent)-1])
		}
	})
}

func TestNewValidates(t *testing.T) {
	for name, mut := range map[string]func(*conf.VRRPInstance){
		"version 3 with auth": func(c *conf.VRRPInstance) { c.Version = 3 },
		"version 4":           func(c *conf.VRRPInstance) { c.Version = 4; c.AuthType, c.AuthPass = "", "" },
		"v3 advert 5ms": func(c *conf.VRRPInstance) {
			c.Version = 3
			c.AuthType, c.AuthPass = "", ""
			c.AdvertInt = 5 * time.Millisecond
		},
		"v3 advert 15ms": func(c *conf.VRRPInstance) {
			c.Version = 3
			c.AuthType, c.AuthPass = "", ""
			c.AdvertInt = 15 * time.Millisecond
		},
		"v3 checksum on v2":  func(c *conf.VRRPInstance) { c.V3ChecksumAsV2 = true },
		"no interface":       func(c *conf.VRRPInstance) { c.Interface = "" },
		"vrid 0":             func(c *conf.VRRPInstance) { c.VRID = 0 },
		"priority 0":         func(c *conf.VRRPInstance) { c.Priority = 0 },
		"advert 1.5s":        func(c *conf.VRRPInstance) { c.AdvertInt = 1500 * time.Millisecond },
		"advert 0":           func(c *conf.VRRPInstance) { c.AdvertInt = 0 },
		"AH":                 func(c *conf.VRRPInstance) { c.AuthType = "AH" },
		"long pass":          func(c *conf.VRRPInstance) { c.AuthPass = "123456789" },
		"no vips":            func(c *conf.VRRPInstance) { c.VIPs = nil },
		"ipv6 vip":           func(c *conf.VRRPInstance) { c.VIPs = []netip.Prefix{netip.MustParsePrefix("2001:db8::1/128")} },
		"empty unicast_peer": func(c *conf.VRRPInstance) { c.UnicastPeers = []netip.Addr{} },
		"multicast peer":     func(c *conf.VRRPInstance) { c.UnicastPeers = []netip.Addr{Group} },
		"ipv6 src":           func(c *conf.VRRPInstance) { c.UnicastSrcIP = netip.MustParseAddr("2001:db8::1") },
		"negative repeat":    func(c *conf.VRRPInstance) { c.GARPMasterRepeat = -1 },
		"negative delay":     func(c *conf.VRRPInstance) { c.PreemptDelay = -time.Second },
	} {
		cfg := testConfig()
		mut(&cfg)
		if _, err := New(cfg, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(testConfig(), nil); err != nil {
		t.Fatal(err)
	}
}

func TestInstanceUnicastFiltersPeers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.UnicastPeers = []netip.Addr{ipHigh}
		inst, f, cancel, done := startFake(t, cfg)
		higher := advertBytes(t, func(a *Advert) { a.Priority = 200 })
		stranger := netip.MustParseAddr("192.0.2.9")
		for range 20 {
			// From the peer, unicast, with a TTL keepalived does not check
			// in unicast mode: accepted.
			f.in <- fakePacket{b: higher, ttl: 64, src: ipHigh, dst: ipLow}
			f.in <- fakePacket{b: higher, ttl: 255, src: stranger, dst: ipLow}
			f.in <- fakePacket{b: higher, ttl: 255, src: ipHigh, dst: Group}
			time.Sleep(time.Second)
			synctest.Wait()
		}
		st := inst.Status()
		want := map[string]uint64{"unicast_peer": 20, "mode": 20}
		if st.State != "BACKUP" || st.MasterIP != ipHigh.String() || st.RxAdverts != 20 || !reflect.DeepEqual(st.Drops, want) {
			t.Fatalf("status %+v", st)
		}
		// Only strangers left: we take over.
		for range 5 {
			f.in <- fakePacket{b: higher, ttl: 255, src: stranger, dst: ipLow}
			time.Sleep(time.Second)
			synctest.Wait()
		}
		if st := inst.Status(); st.State != "MASTER" {
			t.Fatalf("state %s with only a stranger advertising", st.State)
		}
		cancel()
		<-done
	})
}

func TestInstanceGARPOptions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.State = conf.StateMaster
		cfg.GARPMasterRepeat = 2
		cfg.GARPMasterDelay = 0
		cfg.GARPMasterRefresh = 10 * time.Second
		_, f, cancel, done := startFake(t, cfg)
		if _, ops, _ := f.snapshot(); count(ops, "garp 192.0.2.100") != 2 {
			t.Fatalf("first burst: %q", ops)
		}
		time.Sleep(30*time.Second + time.Millisecond)
		synctest.Wait()
		// No delayed burst; one refresh GARP at 10, 20 and 30 s.
		if _, ops, _ := f.snapshot(); count(ops, "garp 192.0.2.100") != 2+3 {
			t.Fatalf("after 30s: %q", ops)
		}
		cancel()
		<-done
	})
}

func TestInstancePreemptDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Priority = 150
		cfg.PreemptDelay = 20 * time.Second
		inst, f, cancel, done := startFake(t, cfg)
		lower := advertBytes(t, func(a *Advert) { a.Priority = 100 })
		var took time.Duration
		for k := range 40 {
			if inst.Status().State == "MASTER" {
				took = time.Duration(k) * time.Second
				break
			}
			f.in <- fakePacket{b: lower, ttl: 255, src: ipHigh}
			time.Sleep(time.Second)
			synctest.Wait()
		}
		down := params(150).MasterDownInterval()
		if took < cfg.PreemptDelay || took > cfg.PreemptDelay+down+time.Second {
			t.Fatalf("preempted the lower master after %v, want %v..%v", took, cfg.PreemptDelay, cfg.PreemptDelay+down+time.Second)
		}
		cancel()
		<-done
	})
}

func v3Config() conf.VRRPInstance {
	c := testConfig()
	c.Version = 3
	c.AuthType, c.AuthPass = "", ""
	c.AdvertInt = 100 * time.Millisecond
	return c
}

func TestInstanceV3(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := v3Config()
		inst, f, cancel, done := startFake(t, cfg)
		// Master_Down_Interval at 100 ms, priority 100: 300 ms + 156/256 x
		// 100 ms = 360.9375 ms (the 361 ms bound).
		time.Sleep(360 * time.Millisecond)
		synctest.Wait()
		if inst.Status().State != "BACKUP" {
			t.Fatalf("master before Master_Down: %s", inst.Status().State)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if inst.Status().State != "MASTER" {
			t.Fatalf("no takeover at Master_Down: %s", inst.Status().State)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		sent, _, _ := f.snapshot()
		if len(sent) != 11 || sent[0].Version != 3 || sent[0].MaxAdvertInt != 10 || sent[0].AuthType != 0 {
			t.Fatalf("%d adverts, first %+v", len(sent), sent[0])
		}
		cancel()
		<-done
	})
}

func TestInstanceV3AdoptsMasterInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := v3Config()
		inst, f, cancel, done := startFake(t, cfg)
		// A master advertising every second (100 cs, priority 200): our
		// own 100 ms interval would time it out after 361 ms; adopting its
		// interval, we wait 3 s + 56/256 s after its last advert.
		a := &Advert{Version: 3, Type: 1, VRID: 51, Priority: 200, MaxAdvertInt: 100, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.100")}}
		b, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		SetChecksumV3(b, ipHigh, Group)
		for range 5 {
			f.in <- fakePacket{b: b, ttl: 255, src: ipHigh}
			time.Sleep(time.Second)
			synctest.Wait()
		}
		if st := inst.Status(); st.State != "BACKUP" || st.RxAdverts != 5 || len(st.Drops) != 0 {
			t.Fatalf("status %+v", st)
		}
		// Last advert 1 s ago; Master_Down with the adopted 1 s interval
		// at our priority 100 = 3 s + 156/256 s.
		time.Sleep(2*time.Second + 609*time.Millisecond)
		synctest.Wait()
		if inst.Status().State != "BACKUP" {
			t.Fatal("did not adopt the master's interval")
		}
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		if inst.Status().State != "MASTER" {
			t.Fatalf("no takeover: %s", inst.Status().State)
		}
		cancel()
		<-done
	})
}

// A master installs and announces every address of Addresses, each on its
// interface, excluded ones too, while its adverts carry the VIPs only;
// stopping removes them all.
func TestInstanceInstallsEveryAddress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.State = conf.StateMaster
		cfg.GARPMasterRepeat = 1
		cfg.GARPMasterDelay = 0
		pfx := netip.MustParsePrefix
		cfg.Addresses = []conf.VIPAddr{
			{Prefix: pfx("192.0.2.100/32")},
			{Prefix: pfx("203.0.113.1/24"), Dev: "eth1", Label: "eth1:gw"},
			{Prefix: pfx("2001:db8::30/64"), Excluded: true},
		}
		_, f, cancel, done := startFake(t, cfg)
		sent, ops, _ := f.snapshot()
		want := []string{"add 192.0.2.100/32", "add 203.0.113.1/24 dev eth1", "add 2001:db8::30/64",
			"garp 192.0.2.100", "garp 203.0.113.1 dev eth1", "garp 2001:db8::30"}
		for _, w := range want {
			if count(ops, w) != 1 {
				t.Errorf("%q done %d times; ops %q", w, count(ops, w), ops)
			}
		}
		if len(sent) == 0 || len(sent[0].Addrs) != 1 || sent[0].Addrs[0] != netip.MustParseAddr("192.0.2.100") {
			t.Errorf("advert addresses %v, want the VIP only", sent)
		}
		cancel()
		<-done
		_, ops, _ = f.snapshot()
		for _, w := range []string{"del 192.0.2.100/32", "del 203.0.113.1/24 dev eth1", "del 2001:db8::30/64"} {
			if count(ops, w) != 1 {
				t.Errorf("%q done %d times after the stop; ops %q", w, count(ops, w), ops)
			}
		}
	})
}
