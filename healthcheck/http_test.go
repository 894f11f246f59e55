package healthcheck

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// healthPage answers /health with 200 "state: ok", /down with 503,
// /moved with a redirect, and records the Host header of each request.
func healthPage(hosts chan<- string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hosts != nil {
			hosts <- r.Host
		}
		switch r.URL.Path {
		case "/health":
			_, _ = w.Write([]byte("node db1\nstate: ok\n"))
		case "/down":
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		case "/big":
			_, _ = w.Write(make([]byte, maxBody+1))
		case "/moved":
			http.Redirect(w, r, "/health", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	})
}

// healthDigest is md5sum of /health's body.
const healthDigest = "0ec4e86d0636fe571eb5753b253e801d"

func httpCheck(kind, addr string, h conf.HTTPCheck) conf.Check {
	return conf.Check{Kind: kind, Target: netip.MustParseAddrPort(addr), ConnectTimeout: 5 * time.Second, HTTP: &h}
}

func TestHTTPChecker(t *testing.T) {
	hosts := make(chan string, 100)
	srv := httptest.NewServer(healthPage(hosts))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	for _, tc := range []struct {
		name    string
		cfg     conf.HTTPCheck
		wantErr string // "" = success
	}{
		{"defaults: / is 404", conf.HTTPCheck{}, "status 404, want [200]"},
		{"200 on path", conf.HTTPCheck{Path: "/health"}, ""},
		{"status mismatch", conf.HTTPCheck{Path: "/down", StatusCodes: []int{200, 204}}, "status 503, want [200 204]"},
		{"expected non-200", conf.HTTPCheck{Path: "/down", StatusCodes: []int{503}}, ""},
		{"redirect not followed", conf.HTTPCheck{Path: "/moved"}, "status 302, want [200]"},
		{"redirect accepted", conf.HTTPCheck{Path: "/moved", StatusCodes: []int{302}}, ""},
		{"body regex matches", conf.HTTPCheck{Path: "/health", BodyRegex: `(?m)^state: ok$`}, ""},
		{"body regex fails", conf.HTTPCheck{Path: "/health", BodyRegex: `state: (primary|secondary)`}, `does not match body_regex "state: (primary|secondary)"`},
		{"status checked before body", conf.HTTPCheck{Path: "/down", BodyRegex: `x`}, "status 503"},
		{"invalid regex (conf refuses it first)", conf.HTTPCheck{Path: "/health", BodyRegex: `(`}, "body_regex: error parsing regexp"},
		{"digest matches", conf.HTTPCheck{Path: "/health", Digest: healthDigest}, ""},
		{"digest and regex", conf.HTTPCheck{Path: "/health", Digest: healthDigest, BodyRegex: "ok"}, ""},
		{"digest differs", conf.HTTPCheck{Path: "/health", Digest: "00000000000000000000000000000000"},
			"body digest " + healthDigest + ", want 00000000000000000000000000000000"},
		{"body too large", conf.HTTPCheck{Path: "/big", Digest: healthDigest}, "body larger than 1048576 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := NewHTTPChecker(httpCheck(conf.CheckHTTP, addr, tc.cfg)).Check(context.Background())
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Check = %v, want success", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Check = %v, want error containing %q", err, tc.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "http_get http://"+addr) {
				t.Errorf("error %q does not name the checker and URL", err)
			}
		})
	}

	// virtualhost sets the Host header; without it Host is the target.
	for len(hosts) > 0 {
		<-hosts
	}
	if err := NewHTTPChecker(httpCheck(conf.CheckHTTP, addr, conf.HTTPCheck{Path: "/health", VirtualHost: "db.example.com"})).Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h := <-hosts; h != "db.example.com" {
		t.Errorf("Host = %q, want db.example.com", h)
	}
	if err := NewHTTPChecker(httpCheck(conf.CheckHTTP, addr, conf.HTTPCheck{Path: "/health"})).Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h := <-hosts; h != addr {
		t.Errorf("Host = %q, want %s", h, addr)
	}
}

func TestHTTPCheckerNoKeepAlive(t *testing.T) {
	// Every check opens its own connection and closes it.
	srv := httptest.NewUnstartedServer(healthPage(nil))
	conns := make(chan http.ConnState, 100)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) { conns <- s }
	srv.Start()
	defer srv.Close()
	c := NewHTTPChecker(httpCheck(conf.CheckHTTP, srv.Listener.Addr().String(), conf.HTTPCheck{Path: "/health"}))
	for range 3 {
		if err := c.Check(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	news, closed := 0, 0
	for closed < 3 {
		select {
		case s := <-conns:
			switch s {
			case http.StateNew:
				news++
			case http.StateClosed:
				closed++
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d connections opened, %d closed; want 3 and 3", news, closed)
		}
	}
	if news != 3 {
		t.Errorf("%d connections for 3 checks", news)
	}
}

// writeCA writes the test server's certificate (self-signed: it is its own
// CA) as PEM.
func writeCA(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSSLChecker(t *testing.T) {
	srv := httptest.NewUnstartedServer(healthPage(nil))
	// Handshakes we make fail on purpose; keep the server quiet.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	ca := writeCA(t, srv)
	missing := filepath.Join(t.TempDir(), "nope.pem")
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// httptest's certificate is for 127.0.0.1, ::1 and example.com.
	for _, tc := range []struct {
		name    string
		cfg     conf.HTTPCheck
		wantErr string
	}{
		{"verification on by default: unknown CA", conf.HTTPCheck{Path: "/health"}, "certificate signed by unknown authority"},
		{"with the CA", conf.HTTPCheck{Path: "/health", CAFile: ca}, ""},
		{"with the CA, status still checked", conf.HTTPCheck{Path: "/down", CAFile: ca}, "status 503"},
		{"server_name in the certificate", conf.HTTPCheck{Path: "/health", CAFile: ca, ServerName: "example.com"}, ""},
		{"server_name not in the certificate", conf.HTTPCheck{Path: "/health", CAFile: ca, ServerName: "db.example.net"}, "not db.example.net"},
		{"virtualhost is the default server name", conf.HTTPCheck{Path: "/health", CAFile: ca, VirtualHost: "db.example.net"}, "not db.example.net"},
		{"server_name wins over virtualhost", conf.HTTPCheck{Path: "/health", CAFile: ca, VirtualHost: "db.example.net", ServerName: "example.com"}, ""},
		{"insecure_skip_verify", conf.HTTPCheck{Path: "/health", InsecureSkipVerify: true}, ""},
		{"unreadable ca_file", conf.HTTPCheck{Path: "/health", CAFile: missing}, "ca_file: open " + missing},
		{"ca_file without PEM", conf.HTTPCheck{Path: "/health", CAFile: garbage}, "no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := NewHTTPChecker(httpCheck(conf.CheckSSL, addr, tc.cfg)).Check(context.Background())
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Check = %v, want success", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Check = %v, want error containing %q", err, tc.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "ssl_get https://"+addr) {
				t.Errorf("error %q does not name the checker and URL", err)
			}
		})
	}

	// The CA file is read again until it is readable: a file that
	// appears later heals the check without a reload.
	c := NewHTTPChecker(httpCheck(conf.CheckSSL, addr, conf.HTTPCheck{Path: "/health", CAFile: missing}))
	if err := c.Check(context.Background()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Check = %v, want ErrNotExist", err)
	}
	b, _ := os.ReadFile(ca)
	if err := os.WriteFile(missing, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("after the CA appeared: %v", err)
	}
}

// hostile runs a TCP server on loopback that does bad things to each
// connection.
func hostile(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
				select {
				case <-done:
				case <-time.After(30 * time.Second):
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func silent(net.Conn) {}

// garbage answers the client's first bytes with noise.
func garbage(c net.Conn) {
	_, _ = c.Read(make([]byte, 512))
	_, _ = c.Write([]byte("\x00\xffSSH-2.0-garbage\r\n\r\n\x01\x02\x03"))
}

func closeAtOnce(c net.Conn) { c.Close() }

// TestHostileHTTP: a server that accepts and never answers, or answers
// garbage, or hangs up, never holds the checker past its timeout.
func TestHostileHTTP(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handle  func(net.Conn)
		kind    string
		wantErr string
	}{
		{"silent http", silent, conf.CheckHTTP, "deadline exceeded"},
		{"silent https", silent, conf.CheckSSL, "deadline exceeded"},
		{"garbage http", garbage, conf.CheckHTTP, "malformed HTTP response"},
		{"garbage https", garbage, conf.CheckSSL, "tls: "},
		{"hang up http", closeAtOnce, conf.CheckHTTP, "(EOF|closed|reset)"},
		{"hang up https", closeAtOnce, conf.CheckSSL, "(EOF|closed|reset)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := hostile(t, tc.handle)
			c := httpCheck(tc.kind, addr, conf.HTTPCheck{Path: "/health", InsecureSkipVerify: true})
			c.ConnectTimeout = 300 * time.Millisecond
			start := time.Now()
			err := NewHTTPChecker(c).Check(context.Background())
			took := time.Since(start)
			if err == nil || !regexp.MustCompile(tc.wantErr).MatchString(err.Error()) {
				t.Errorf("Check = %v, want error matching %q", err, tc.wantErr)
			}
			// Generous bound (2 shared cores): the point is "not 30 s".
			if took > 10*time.Second {
				t.Errorf("Check took %v with a 300ms connect_timeout", took)
			}
		})
	}
}
