package healthcheck

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

// BenchmarkTCPChecker is one tcp_check attempt against a loopback listener
// (make bench): the per-check cost the Manager pays at every delay_loop.
func BenchmarkTCPChecker(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	c := &TCPChecker{Target: netip.MustParseAddrPort(ln.Addr().String()), Timeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Check(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
