package main

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/healthcheck"
)

func TestPrintHistory(t *testing.T) {
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) time.Time { return now.Add(-ago) }
	vsAddr := netip.MustParseAddrPort("198.51.100.30:3306")
	db1, db2 := netip.MustParseAddrPort("198.51.100.10:3306"), netip.MustParseAddrPort("198.51.100.11:3306")
	refused := "tcp_check: dial tcp 198.51.100.11:3306: connect: connection refused"
	for _, tc := range []struct {
		name string
		vss  []vsStatus
		want string
	}{
		{"none yet", []vsStatus{{Protocol: "TCP", Addr: vsAddr, RealServers: []rsStatus{{Addr: db1, Check: "up"}}}}, `
Health history: no transitions yet
`},
		{"down then up, one server", []vsStatus{{Name: "mysql", Protocol: "TCP", Addr: vsAddr, RealServers: []rsStatus{
			{Name: "db1", Addr: db1, Check: "up"},
			{Name: "db2", Addr: db2, Check: "up", Transitions: 2, History: []healthcheck.Transition{
				{Up: false, Err: refused, At: at(3*time.Minute + 500*time.Millisecond)},
				{Up: true, At: at(42 * time.Second)},
			}},
		}}}, `
Health history (oldest first)
TCP 198.51.100.30:3306 (mysql) -> 198.51.100.11:3306 (db2), now up, 2 changes
  2026-11-22 07:56:59.500Z  3m0s ago  DOWN  tcp_check: dial tcp 198.51.100.11:3306: connect: connection refused
  2026-11-22 07:59:18.000Z  42s ago   up
`},
		{"one change", []vsStatus{{Protocol: "UDP", Addr: netip.MustParseAddrPort("198.51.100.30:53"), RealServers: []rsStatus{
			{Addr: netip.MustParseAddrPort("198.51.100.10:53"), Check: "down", Transitions: 1, History: []healthcheck.Transition{
				{Up: false, Err: "dns_check: no response", At: at(5 * time.Second)},
			}},
		}}}, `
Health history (oldest first)
UDP 198.51.100.30:53 -> 198.51.100.10:53, now down, 1 change
  2026-11-22 07:59:55.000Z  5s ago  DOWN  dns_check: no response
`},
		{"older transitions not kept, weight change, fwmark", []vsStatus{{Protocol: "TCP", FWMark: 7, Addr: netip.AddrPortFrom(netip.IPv4Unspecified(), 0), RealServers: []rsStatus{
			{Addr: db1, Check: "down", Transitions: 20, History: []healthcheck.Transition{
				{Up: true, At: at(2 * time.Hour)},
				{Up: true, WeightOnly: true, At: at(90 * time.Minute)},
				{Up: false, Err: "misc_check: exit status 1", At: at(time.Hour)},
			}},
		}}}, `
Health history (oldest first)
FWM 7 -> 198.51.100.10:3306, now down, 20 changes, 18 older not kept
  2026-11-22 06:00:00.000Z  2h0m ago   up
  2026-11-22 06:30:00.000Z  1h30m ago  weight  misc_dynamic weight changed
  2026-11-22 07:00:00.000Z  1h0m ago   DOWN    misc_check: exit status 1
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			printHistory(&b, &statusDoc{VirtualServers: tc.vss}, now)
			if got := b.String(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestStatusHistoryHint: the default view only says that history exists.
func TestStatusHistoryHint(t *testing.T) {
	now := time.Now()
	st := statusDoc{VirtualServers: []vsStatus{{Protocol: "TCP", Addr: netip.MustParseAddrPort("198.51.100.30:80"), InKernel: true,
		RealServers: []rsStatus{{Addr: netip.MustParseAddrPort("198.51.100.10:80"), Check: "up", Transitions: 1,
			History: []healthcheck.Transition{{Up: true, At: now}}}}}}}
	var b bytes.Buffer
	printStatus(&b, &st, now)
	if !strings.Contains(b.String(), "health history: 1 transition kept (lvsd status --history shows them)") || strings.Contains(b.String(), "Health history") {
		t.Errorf("default view:\n%s", b.String())
	}
	st.VirtualServers[0].RealServers[0].History = nil
	b.Reset()
	printStatus(&b, &st, now)
	if strings.Contains(b.String(), "--history") {
		t.Errorf("hint without history:\n%s", b.String())
	}
}
