//go:build integration

package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/healthcheck"
)

// bindtoConf probes srv (198.51.100.40) from the client namespace, which
// has two addresses: 198.51.100.20 (the kernel's choice) and 198.51.100.21.
const bindtoConf = `
virtual_server "web" {
  address    = "203.0.113.10:80"
  delay_loop = "1s"
  real_server "srv" {
    address = "198.51.100.40:80"
    tcp_check {
      connect_port = 7001
      bindto       = "198.51.100.21"
      bind_port    = 4001
      warmup       = 0
    }
    http_get {
      bindto    = "198.51.100.21"
      bind_port = 4002
      path      = "/"
      warmup    = 0
    }
    ssl_get {
      connect_port         = 443
      bindto               = "198.51.100.21"
      path                 = "/"
      insecure_skip_verify = true
      warmup               = 0
    }
    mysql_check {
      connect_port = 3306
      user         = "monitor"
      bindto       = "198.51.100.21"
      bind_port    = 4004
      retry        = 0
      warmup       = 0
    }
  }
  real_server "plain" {
    address = "198.51.100.40:7002"
    tcp_check {
      warmup = 0
    }
  }
  real_server "elsewhere" {
    address = "198.51.100.40:7001"
    tcp_check {
      bindto = "198.51.100.99"
      retry  = 0
      warmup = 0
    }
  }
}

virtual_server "dns" {
  address    = "203.0.113.10:53"
  protocol   = "UDP"
  delay_loop = "1s"
  real_server "ns" {
    address = "198.51.100.40:53"
    udp_check {
      bindto          = "198.51.100.21"
      bind_port       = 4005
      connect_timeout = "1s"
      require_reply   = true
      warmup          = 0
    }
    dns_check {
      bindto    = "198.51.100.21"
      bind_port = 4006
      warmup    = 0
    }
  }
}
`

// TestBindToProbeHelper is not a test of its own: TestBindToHost runs the
// test binary again inside the client namespace (every goroutine of the
// Manager then dials from there) with LVSD_BINDTO_CONF set. It runs the
// checks of that file for a few seconds and prints the Manager's status.
func TestBindToProbeHelper(t *testing.T) {
	file := os.Getenv("LVSD_BINDTO_CONF")
	if file == "" {
		t.Skip("run by TestBindToHost")
	}
	cfg, diags := conf.Load(file)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	m := healthcheck.NewManager(nil, nil)
	m.Set(cfg.VirtualServers)
	ctx, cancel := context.WithTimeout(context.Background(), 4500*time.Millisecond)
	defer cancel()
	_ = m.Run(ctx)
	b, err := json.Marshal(m.Status())
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("STATUS " + string(b) + "\n")
}

// TestBindToHost: probes with bindto and bind_port leave from that source
// address and port, as the real server sees them, for tcp_check, http_get,
// ssl_get, mysql_check, udp_check and dns_check; a probe without bindto
// leaves from the kernel's choice; a bindto the host does not have fails
// its check, and the status says why.
func TestBindToHost(t *testing.T) {
	l := newLab(t, "msb")
	cli := addHost(t, l, "cli", "198.51.100.20/24")
	if _, err := cli.Run("ip", "addr", "add", "198.51.100.21/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	srv := addHost(t, l, "srv", "198.51.100.40/24")

	// The real server records the source of every probe, by service.
	var mu sync.Mutex
	seen := map[string][]netip.AddrPort{}
	record := func(svc, from string) {
		mu.Lock()
		defer mu.Unlock()
		seen[svc] = append(seen[svc], netip.MustParseAddrPort(from))
	}
	listen := func(network, addr string) (ln net.Listener, pc net.PacketConn) {
		t.Helper()
		if err := srv.Do(func() error {
			var err error
			if network == "udp" {
				pc, err = net.ListenPacket(network, addr)
			} else {
				ln, err = net.Listen(network, addr)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return ln, pc
	}
	// tcp_check on 7001 and 7002; the mysql port accepts and hangs up
	// (mysql_check then fails: the source is what this test is about,
	// TestMySQLCheckMariaDB checks the login).
	for _, port := range []string{"7001", "7002", "3306"} {
		ln, _ := listen("tcp", "198.51.100.40:"+port)
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				record(port, c.RemoteAddr().String())
				c.Close()
			}
		}()
	}
	for _, port := range []string{"80", "443"} {
		ln, _ := listen("tcp", "198.51.100.40:"+port)
		s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			record(port, r.RemoteAddr)
		}))
		s.Listener.Close()
		s.Listener = ln
		if port == "443" {
			s.StartTLS()
		} else {
			s.Start()
		}
		t.Cleanup(s.Close)
	}
	// UDP 53 answers udp_check and dns_check alike: the datagram back,
	// as a DNS response (QR set, RCODE NOERROR) when it is a query.
	_, pc := listen("udp", "198.51.100.40:53")
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			svc := "udp"
			if n >= 12 {
				svc = "dns"
				buf[2] |= 0x80
				buf[3] &= 0xf0
			}
			record(svc, from.String())
			_, _ = pc.WriteTo(buf[:n], from)
		}
	}()

	file, err := l.WriteFile("bindto.hcl", bindtoConf)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", cli.NS, os.Args[0], "-test.run=^TestBindToProbeHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LVSD_BINDTO_CONF="+file, "LVSD_BIN="+lvsdBin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("probe helper: %v\n%s", err, out)
	}
	var status []healthcheck.ProbeStatus
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if js, ok := strings.CutPrefix(sc.Text(), "STATUS "); ok {
			if err := json.Unmarshal([]byte(js), &status); err != nil {
				t.Fatal(err)
			}
		}
	}
	if status == nil {
		t.Fatalf("no status from the helper:\n%s", out)
	}

	mu.Lock()
	defer mu.Unlock()
	for _, tc := range []struct {
		svc, want string // want: source address, or address:port
	}{
		{"7001", "198.51.100.21:4001"}, // tcp_check
		{"80", "198.51.100.21:4002"},   // http_get
		{"443", "198.51.100.21"},       // ssl_get, bindto alone
		{"3306", "198.51.100.21:4004"}, // mysql_check
		{"udp", "198.51.100.21:4005"},  // udp_check
		{"dns", "198.51.100.21:4006"},  // dns_check
		{"7002", "198.51.100.20"},      // no bindto: the kernel's choice
	} {
		got := seen[tc.svc]
		// Checks at once, then every second for 4.5 s: several each.
		if len(got) < 2 {
			t.Errorf("%s: %d probes seen (%v), want several", tc.svc, len(got), got)
		}
		for _, a := range got {
			if a.String() != tc.want && a.Addr().String() != tc.want {
				t.Errorf("%s: probe from %v, want %s", tc.svc, a, tc.want)
			}
		}
		t.Logf("%s: %d probes from %v", tc.svc, len(got), tc.want)
	}

	byRS := map[string]healthcheck.ProbeStatus{}
	for _, st := range status {
		byRS[st.VS+" "+st.RS] = st
	}
	ns := byRS["dns 198.51.100.40:53"]
	if !ns.Up || ns.LastError != "" {
		t.Errorf("udp_check and dns_check with bindto: %+v", ns)
	}
	web := byRS["web 198.51.100.40:80"]
	for _, c := range web.Checks {
		if c.Kind == "mysql_check" {
			if c.Up {
				t.Errorf("mysql_check against a port that hangs up is up: %+v", c)
			}
			continue
		}
		if !c.Up || c.LastError != "" {
			t.Errorf("%s with bindto: %+v", c.Kind, c)
		}
	}
	bad := byRS["web 198.51.100.40:7001"]
	const why = "bind: cannot assign requested address (bindto 198.51.100.99: not an address of this host)"
	if bad.Up || !strings.Contains(bad.LastError, why) {
		t.Errorf("bindto 198.51.100.99 (not on the host): up=%v last_error=%q, want down with %q", bad.Up, bad.LastError, why)
	}
	t.Logf("status of the bad bindto: %s", bad.LastError)
}
