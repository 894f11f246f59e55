//go:build integration

package integration

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// benchCell is one advert interval / protocol version of the failover
// benchmark (issue 3, section Benchmark).
type benchCell struct {
	name    string
	version int
	advert  time.Duration
	runs    int
}

// bound is Master_Down_Interval for the backup's priority: the backup
// takes over this long after the last advert it heard (RFC 3768 §6.1,
// RFC 5798 §6.1).
func (c benchCell) bound(prio int) time.Duration {
	return 3*c.advert + time.Duration(256-prio)*c.advert/256
}

// lvsdBenchConf is a VRRP-only director file for the cell. v3 has no
// authentication, so the block is only written for v2.
func lvsdBenchConf(c benchCell, state string, prio int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "vrrp_instance \"VI_1\" {\n  state = %q\n  interface = \"eth0\"\n  virtual_router_id = 51\n  priority = %d\n", state, prio)

	if c.version == 3 {
		fmt.Fprintf(&b, "  version = 3\n  advert_int = %q\n", c.advert.String())
	} else {
		fmt.Fprintf(&b, "  advert_int = %q\n  authentication {\n    auth_type = \"PASS\"\n    auth_pass = \"benchpw\"\n  }\n", c.advert.String())
	}
	b.WriteString("  virtual_ipaddress = [\"198.51.100.30/24\"]\n}\n")
	return b.String()
}

// keepalivedBenchConf is the same instance for keepalived.
func keepalivedBenchConf(c benchCell, state string, prio int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global_defs {\n  router_id lvsd_bench\n  enable_script_security\n}\nvrrp_instance VI_1 {\n  state %s\n  interface eth0\n  virtual_router_id 51\n  priority %d\n", state, prio)
	if c.version == 3 {
		fmt.Fprintf(&b, "  version 3\n  advert_int %g\n", c.advert.Seconds())
	} else {
		fmt.Fprintf(&b, "  advert_int %g\n  authentication {\n    auth_type PASS\n    auth_pass benchpw\n  }\n", c.advert.Seconds())
	}
	b.WriteString("  virtual_ipaddress {\n    198.51.100.30/24 dev eth0\n  }\n}\n")
	return b.String()
}

const (
	benchBackupPrio = 100
	// probePort is the UDP echo port both directors serve.
	probePort = 7007
	// probeEvery is the client's probe period: the resolution of the
	// outage figure (the measured gap is reported per run).
	probeEvery = time.Millisecond
)

// benchRuns is LVSD_BENCH_RUNS (default 10): runs per cell and
// implementation. Short runs validate the harness on a loaded machine.
func benchRuns(t *testing.T) int {
	if s := os.Getenv("LVSD_BENCH_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("LVSD_BENCH_RUNS=%q: want a positive integer", s)
		}
		return n
	}
	return 10
}

// runResult is one failover as the client saw it.
type runResult struct {
	outage time.Duration // cut -> first reply from the new master
	// sinceAdvert is last advert of the old master (as received by the
	// client's NIC, kernel timestamp) -> first reply from the new master:
	// the figure to hold against the Master_Down bound.
	sinceAdvert time.Duration
	// resolution is the gap between the last unanswered probe and the
	// first answered one: the uncertainty of both figures.
	resolution time.Duration
}

// TestFailoverBenchmark measures failover end to end as a client sees it:
// a client sends a UDP probe to the VIP every millisecond, the master's
// cable is cut at a random phase of the advert cycle, and the outage is the
// time from the cut to the first reply from the new master. The client also
// timestamps (in the kernel) every advert it hears, so each run also gives
// the time from the old master's last advert to the first reply, which the
// protocol bounds by Master_Down_Interval. lvsd and keepalived pairs
// alternate run by run in the same harness. It only runs from `make bench`
// (LVSD_BENCH_FAILOVER=1): it takes minutes. LVSD_BENCH_RUNS sets the runs
// per cell (default 10), LVSD_BENCH_CELLS a comma-separated subset of
// "v2-1s", "v3-100ms", "v3-20ms".
func TestFailoverBenchmark(t *testing.T) {
	if os.Getenv("LVSD_BENCH_FAILOVER") != "1" {
		t.Skip("set LVSD_BENCH_FAILOVER=1 (make bench) to run the failover benchmark")
	}
	needKeepalived(t)
	runs := benchRuns(t)
	cells := []benchCell{
		{name: "v2-1s", version: 2, advert: time.Second, runs: runs},
		{name: "v3-100ms", version: 3, advert: 100 * time.Millisecond, runs: runs},
		{name: "v3-20ms", version: 3, advert: 20 * time.Millisecond, runs: runs},
	}
	if s := os.Getenv("LVSD_BENCH_CELLS"); s != "" {
		want := strings.Split(s, ",")
		cells = slices.DeleteFunc(cells, func(c benchCell) bool { return !slices.Contains(want, c.name) })
	}
	type row struct {
		cell      benchCell
		lvsd, kad []runResult
	}
	var rows []row
	for _, c := range cells {
		r := row{cell: c}
		for i := 0; i < c.runs; i++ {
			// Alternate which goes first so drift in machine load
			// does not favour one implementation.
			if i%2 == 0 {
				r.lvsd = append(r.lvsd, failoverRun(t, c, false, i))
				r.kad = append(r.kad, failoverRun(t, c, true, i))
			} else {
				r.kad = append(r.kad, failoverRun(t, c, true, i))
				r.lvsd = append(r.lvsd, failoverRun(t, c, false, i))
			}
		}
		rows = append(rows, r)
	}
	var b strings.Builder
	b.WriteString("\n| cell | impl | runs | outage median (min-max) | last advert -> reply median (min-max) | bound | worst resolution |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		for _, impl := range []struct {
			name string
			res  []runResult
		}{{"lvsd", r.lvsd}, {"keepalived", r.kad}} {
			om, on, ox := stats(field(impl.res, func(x runResult) time.Duration { return x.outage }))
			am, an, ax := stats(field(impl.res, func(x runResult) time.Duration { return x.sinceAdvert }))
			_, _, rx := stats(field(impl.res, func(x runResult) time.Duration { return x.resolution }))
			fmt.Fprintf(&b, "| %s | %s | %d | %s (%s-%s) | %s (%s-%s) | %s | %s |\n", r.cell.name, impl.name, len(impl.res),
				ms(om), ms(on), ms(ox), ms(am), ms(an), ms(ax), ms(r.cell.bound(benchBackupPrio)), msf(rx))
		}
	}
	t.Log(b.String())
}

func field(rs []runResult, f func(runResult) time.Duration) []time.Duration {
	out := make([]time.Duration, len(rs))
	for k, r := range rs {
		out[k] = f(r)
	}
	return out
}

func stats(d []time.Duration) (median, lo, hi time.Duration) {
	s := slices.Clone(d)
	slices.Sort(s)
	n := len(s)
	median = s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return median, s[0], s[n-1]
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
}

func msf(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// benchPair builds a lab with two directors (d1 master at priority 101, d2
// backup at 100) and a client, each director serving UDP echo on the
// probe port; it returns once d1 holds the VIP.
type benchPair struct {
	l              *lab.Lab
	d1, d2, client *lab.Host
	p1, p2         *lab.Proc
	closers        []func()
}

func newBenchPair(t *testing.T, prefix string, c benchCell, keepalived bool) *benchPair {
	return newBenchPairRT(t, prefix, c, keepalived, 0)
}

// newBenchPairRT is newBenchPair with realtime scheduling when rt > 0:
// keepalived with its own vrrp_rt_priority (SCHED_RR for its VRRP process),
// lvsd under `chrt -r rt` (every thread SCHED_RR).
func newBenchPairRT(t *testing.T, prefix string, c benchCell, keepalived bool, rt int) *benchPair {
	t.Helper()
	l, err := lab.New(prefix, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	bp := &benchPair{l: l}
	bp.d1 = addHost(t, l, "d1", "198.51.100.20/24")
	bp.d2 = addHost(t, l, "d2", "198.51.100.21/24")
	bp.client = addHost(t, l, "c", "198.51.100.2/24")
	// The VIP's service: a UDP echo on every address of each director,
	// answering with its name, so whoever holds the VIP answers. This
	// isolates VRRP + gratuitous ARP + the client's ARP cache, which is
	// what failover costs.
	for _, h := range []*lab.Host{bp.d1, bp.d2} {
		stop, err := serveUDPEcho(h)
		if err != nil {
			l.Close()
			t.Fatal(err)
		}
		bp.closers = append(bp.closers, stop)
	}
	start := func(h *lab.Host, state string, prio int) *lab.Proc {
		switch {
		case keepalived && rt > 0:
			conf := strings.Replace(keepalivedBenchConf(c, state, prio), "global_defs {\n", fmt.Sprintf("global_defs {\n  vrrp_rt_priority %d\n", rt), 1)
			return startKeepalived(t, l, h, conf)
		case keepalived:
			return startKeepalived(t, l, h, keepalivedBenchConf(c, state, prio))
		case rt > 0:
			return startDirector(t, l, h, lvsdBenchConf(c, state, prio), "--realtime-priority", strconv.Itoa(rt))
		}
		return startDirector(t, l, h, lvsdBenchConf(c, state, prio))
	}
	bp.p1 = start(bp.d1, "MASTER", benchBackupPrio+1)
	waitVIP(t, bp.d1, true, 5*time.Second)
	bp.p2 = start(bp.d2, "BACKUP", benchBackupPrio)
	return bp
}

func (bp *benchPair) Close() {
	for _, f := range bp.closers {
		f()
	}
	bp.l.Close()
}

func (bp *benchPair) logs() string { return bp.p1.Output() + "\n----\n" + bp.p2.Output() }

// serveUDPEcho answers every UDP datagram on the probe port with the host's
// name and the datagram's sequence number.
func serveUDPEcho(h *lab.Host) (func(), error) {
	var pc net.PacketConn
	err := h.Do(func() error {
		var err error
		pc, err = net.ListenPacket("udp4", fmt.Sprintf("0.0.0.0:%d", probePort))
		return err
	})
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(append([]byte(h.Name+" "), buf[:n]...), from)
		}
	}()
	return func() { pc.Close(); <-done }, nil
}

// advertSeen is one VRRP advert heard by the client.
type advertSeen struct {
	at   time.Time // kernel receive timestamp (SO_TIMESTAMPNS)
	src  [4]byte
	prio uint8
}

// advertMonitor records every VRRP advert reaching the host, with kernel
// receive timestamps, so that scheduling delays of the monitor itself do
// not show in the intervals it reports.
type advertMonitor struct {
	fd   int
	mu   sync.Mutex
	seen []advertSeen
	stop chan struct{}
	done chan struct{}
}

func startAdvertMonitor(h *lab.Host) (*advertMonitor, error) {
	m := &advertMonitor{fd: -1, stop: make(chan struct{}), done: make(chan struct{})}
	err := h.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 112)
		if err != nil {
			return err
		}
		m.fd = fd
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		mreq := &unix.IPMreqn{Multiaddr: [4]byte{224, 0, 0, 18}, Ifindex: int32(ifi.Index)}
		if err := unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq); err != nil {
			return err
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
			return err
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20); err != nil {
			return err
		}
		tv := unix.NsecToTimeval(int64(100 * time.Millisecond))
		return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	})
	if err != nil {
		if m.fd >= 0 {
			unix.Close(m.fd)
		}
		return nil, fmt.Errorf("advert monitor: %w", err)
	}
	go m.loop()
	return m, nil
}

func (m *advertMonitor) loop() {
	defer close(m.done)
	buf := make([]byte, 2048)
	oob := make([]byte, 128)
	for {
		select {
		case <-m.stop:
			return
		default:
		}
		n, oobn, _, _, err := unix.Recvmsg(m.fd, buf, oob, 0)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
		if n < 20+8 {
			continue
		}
		hl := int(buf[0]&0x0f) * 4
		if n < hl+8 {
			continue
		}
		at := time.Now()
		if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, cm := range msgs {
				if cm.Header.Level == unix.SOL_SOCKET && cm.Header.Type == unix.SO_TIMESTAMPNS && len(cm.Data) >= 16 {
					// struct timespec: two native-endian int64 on 64-bit Linux.
					at = time.Unix(int64(binary.NativeEndian.Uint64(cm.Data[0:8])), int64(binary.NativeEndian.Uint64(cm.Data[8:16])))
				}
			}
		}
		m.mu.Lock()
		m.seen = append(m.seen, advertSeen{at: at, src: [4]byte(buf[12:16]), prio: buf[hl+2]})
		m.mu.Unlock()
	}
}

// Close stops the monitor and returns what it saw.
func (m *advertMonitor) Close() []advertSeen {
	close(m.stop)
	<-m.done
	unix.Close(m.fd)
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.seen)
}

func ip4(s string) [4]byte { return [4]byte(net.ParseIP(s).To4()) }

// failoverRun builds a fresh lab (no state carried between runs: ARP caches,
// bridge FDB and daemons all start cold) and returns one failover.
func failoverRun(t *testing.T, c benchCell, keepalived bool, i int) runResult {
	t.Helper()
	impl := "lvsd"
	if keepalived {
		impl = "keepalived"
	}
	bp := newBenchPair(t, "vwb", c, keepalived)
	defer bp.Close()

	var conn *net.UDPConn
	if err := bp.client.Do(func() error {
		var err error
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dst := &net.UDPAddr{IP: net.ParseIP(vip), Port: probePort}

	// The client must be talking to d1 through a resolved ARP entry before
	// the cut: the GARP has to move an existing entry, as in production.
	reached := false
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end) && !reached; {
		_, _ = conn.WriteToUDP([]byte("0"), dst)
		_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		buf := make([]byte, 64)
		if n, _, err := conn.ReadFromUDP(buf); err == nil && strings.HasPrefix(string(buf[:n]), "d1 ") {
			reached = true
		}
	}
	if !reached {
		t.Fatalf("%s %s run %d: client never reached d1 through the VIP", impl, c.name, i)
	}
	mon, err := startAdvertMonitor(bp.client)
	if err != nil {
		t.Fatal(err)
	}
	monClosed := false
	defer func() {
		if !monClosed {
			mon.Close()
		}
	}()
	// Let the backup hear a few adverts, so it is settled in BACKUP, then
	// cut at a uniformly random phase of the advert cycle.
	time.Sleep(c.bound(benchBackupPrio) + c.advert)
	if bp.d2.HasAddr(vip) {
		t.Fatalf("%s %s run %d: d2 took the VIP while d1 is master:\n%s", impl, c.name, i, bp.logs())
	}
	time.Sleep(time.Duration(rand.Int64N(int64(c.advert))))

	// Prober: a datagram every probeEvery, numbered; the reader notes the
	// first answer from d2.
	deadline := time.Now().Add(c.bound(benchBackupPrio) + c.advert + 5*time.Second)
	maxProbes := int(time.Until(deadline)/probeEvery) + 1000
	sent := make([]time.Time, 0, maxProbes)
	var (
		mu       sync.Mutex
		first    time.Time
		firstSeq = -1
	)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		buf := make([]byte, 64)
		_ = conn.SetReadDeadline(deadline)
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			name, seq, ok := strings.Cut(string(buf[:n]), " ")
			if !ok || name != "d2" {
				continue
			}
			k, err := strconv.Atoi(seq)
			if err != nil || k < 1 {
				continue
			}
			mu.Lock()
			first, firstSeq = time.Now(), k
			mu.Unlock()
			return
		}
	}()
	// The cut is one netlink call from this process (no exec whose fork
	// and start-up would blur the cut instant under load), prepared
	// beforehand.
	cutLink, err := prepareCut(bp.l, "d1")
	if err != nil {
		t.Fatal(err)
	}
	proberDone := make(chan struct{})
	go func() {
		defer close(proberDone)
		for seq := 1; time.Now().Before(deadline) && len(sent) < maxProbes; seq++ {
			select {
			case <-readerDone:
				return
			default:
			}
			sent = append(sent, time.Now())
			_, _ = conn.WriteToUDP([]byte(strconv.Itoa(seq)), dst)
			time.Sleep(probeEvery)
		}
	}()
	time.Sleep(5 * probeEvery) // the prober is running before the cut
	cut := time.Now()
	if err := cutLink(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(cut); d > 5*time.Millisecond {
		t.Logf("%s %s run %d: the cut took %v", impl, c.name, i, d)
	}
	<-readerDone
	<-proberDone
	seen := mon.Close()
	monClosed = true
	mu.Lock()
	defer mu.Unlock()
	if firstSeq < 0 {
		t.Fatalf("%s %s run %d: client never reached d2 after the cut:\n%s", impl, c.name, i, bp.logs())
	}
	r := runResult{outage: first.Sub(cut)}
	if firstSeq >= 2 && firstSeq-1 < len(sent) {
		r.resolution = sent[firstSeq-1].Sub(sent[firstSeq-2])
	}
	var last time.Time
	for _, a := range seen {
		if a.src == ip4("198.51.100.20") && a.prio > 0 && a.at.Before(first) {
			last = a.at
		}
	}
	if last.IsZero() {
		t.Fatalf("%s %s run %d: the client heard no advert from d1", impl, c.name, i)
	}
	r.sinceAdvert = first.Sub(last)
	t.Logf("%s %s run %d: outage %v, last advert -> reply %v (bound %v), resolution %v",
		impl, c.name, i, r.outage.Round(100*time.Microsecond), r.sinceAdvert.Round(100*time.Microsecond),
		c.bound(benchBackupPrio), r.resolution.Round(10*time.Microsecond))
	return r
}

// TestFailoverSoak runs an lvsd pair and a keepalived pair side by side at
// VRRPv3 20 ms adverts while two busy-loop processes (normal priority)
// saturate both cores, for LVSD_BENCH_SOAK (a Go duration; `make bench`
// sets 5m), and counts false failovers: the backup entering MASTER, or
// adverts from the backup heard by the client, while the master never
// stopped. It also reports the master's advert send jitter under that load,
// from kernel receive timestamps on the client. LVSD_BENCH_SOAK_RT=N runs
// both under realtime scheduling at priority N (keepalived:
// vrrp_rt_priority N; lvsd: chrt -r N), to compare with the defaults.
func TestFailoverSoak(t *testing.T) {
	s := os.Getenv("LVSD_BENCH_SOAK")
	if s == "" {
		t.Skip("set LVSD_BENCH_SOAK=5m (make bench) to run the false-failover soak")
	}
	dur, err := time.ParseDuration(s)
	if err != nil || dur <= 0 {
		t.Fatalf("LVSD_BENCH_SOAK=%q: want a positive Go duration such as 5m", s)
	}
	needKeepalived(t)
	rt := 0
	if s := os.Getenv("LVSD_BENCH_SOAK_RT"); s != "" {
		if rt, err = strconv.Atoi(s); err != nil || rt < 1 || rt > 99 {
			t.Fatalf("LVSD_BENCH_SOAK_RT=%q: want a realtime priority 1-99", s)
		}
	}
	c := benchCell{name: "v3-20ms", version: 3, advert: 20 * time.Millisecond}
	type side struct {
		impl string
		bp   *benchPair
		mon  *advertMonitor
	}
	var sides []*side
	for _, ka := range []bool{false, true} {
		impl, prefix := "lvsd", "vwsl"
		if ka {
			impl, prefix = "keepalived", "vwsk"
		}
		bp := newBenchPairRT(t, prefix, c, ka, rt)
		defer bp.Close()
		mon, err := startAdvertMonitor(bp.client)
		if err != nil {
			t.Fatal(err)
		}
		sides = append(sides, &side{impl: impl, bp: bp, mon: mon})
	}
	// Settled: both backups in BACKUP before the load starts.
	time.Sleep(2 * time.Second)
	before := map[string]int{}
	for _, sd := range sides {
		if sd.bp.d2.HasAddr(vip) {
			t.Fatalf("%s: backup holds the VIP before the load:\n%s", sd.impl, sd.bp.logs())
		}
		before[sd.impl] = masterEntries(sd.bp.p2.Output())
	}
	hogs := startHogs(t, 2)
	t.Logf("soak: %v at 20 ms adverts, %d busy loops, realtime priority %d (0: normal scheduling)", dur, len(hogs), rt)
	start := time.Now()
	vipOnBackup := map[string]int{}
	for time.Since(start) < dur {
		time.Sleep(time.Second)
		for _, sd := range sides {
			if sd.bp.d2.HasAddr(vip) {
				vipOnBackup[sd.impl]++
			}
		}
	}
	for _, h := range hogs {
		_ = h.Process.Kill()
		_ = h.Wait()
	}
	var b strings.Builder
	b.WriteString("\n| impl | duration | backup entered MASTER | seconds with VIP on backup | adverts from backup | master adverts | gap p50 | gap p99 | gap p99.9 | worst gap | worst send jitter | gaps > 3 x advert |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, sd := range sides {
		seen := sd.mon.Close()
		var fromBackup int
		var gaps []time.Duration
		var prev time.Time
		for _, a := range seen {
			if a.at.Before(start) {
				continue
			}
			switch a.src {
			case ip4("198.51.100.21"):
				if a.prio > 0 {
					fromBackup++
				}
			case ip4("198.51.100.20"):
				if !prev.IsZero() {
					gaps = append(gaps, a.at.Sub(prev))
				}
				prev = a.at
			}
		}
		if len(gaps) == 0 {
			t.Fatalf("%s: no adverts from the master heard", sd.impl)
		}
		slices.Sort(gaps)
		pct := func(p float64) time.Duration { return gaps[min(len(gaps)-1, int(p*float64(len(gaps))))] }
		worst := gaps[len(gaps)-1]
		jitter := max(worst-c.advert, c.advert-gaps[0])
		late := 0
		for _, g := range gaps {
			if g > 3*c.advert {
				late++
			}
		}
		entered := masterEntries(sd.bp.p2.Output()) - before[sd.impl]
		fmt.Fprintf(&b, "| %s | %v | %d | %d | %d | %d | %s | %s | %s | %s | %s | %d |\n", sd.impl, dur, entered, vipOnBackup[sd.impl],
			fromBackup, len(gaps)+1, msf(pct(0.5)), msf(pct(0.99)), msf(pct(0.999)), msf(worst), msf(jitter), late)
	}
	t.Log(b.String())
}

// masterEntries counts the backup's transitions to MASTER in its log (lvsd:
// a "vrrp state change" line with state=MASTER; keepalived: "Entering
// MASTER STATE").
func masterEntries(log string) int {
	n := 0
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "Entering MASTER STATE") ||
			strings.Contains(l, "vrrp state change") && (strings.Contains(l, "state=MASTER") || strings.Contains(l, `"state":"MASTER"`)) {
			n++
		}
	}
	return n
}

// startHogs starts n busy loops at normal priority (a shell spinning on
// ':'), killed when the test ends.
func startHogs(t *testing.T, n int) []*exec.Cmd {
	t.Helper()
	var hogs []*exec.Cmd
	for range n {
		cmd := exec.Command("sh", "-c", "while :; do :; done")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		hogs = append(hogs, cmd)
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Signal(syscall.SIGKILL)
				_ = cmd.Wait()
			}
		})
	}
	return hogs
}

// prepareCut returns a function that cuts host's cable at the switch (its
// veth end in the lab's switch namespace goes down, so the host's eth0 loses
// carrier) in one netlink request. It relies on the lab's naming: switch
// namespace "<prefix>-sw", the host's switch-side end "v-<host>".
func prepareCut(l *lab.Lab, host string) (func() error, error) {
	ns, err := netns.GetFromName(l.Prefix + "-sw")
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, err
	}
	link, err := h.LinkByName("v-" + host)
	if err != nil {
		h.Close()
		return nil, err
	}
	return func() error {
		defer h.Close()
		return h.LinkSetDown(link)
	}, nil
}
