package healthcheck

import (
	"context"
	"crypto/md5"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// maxBody bounds how much of a response body is read for body_regex and
// digest (a larger body fails the check): a
// health page is small, and a hostile server must not make us buffer more.
const maxBody = 1 << 20

// HTTPChecker is http_get and ssl_get: one GET on a fresh connection (no
// keep-alive, no redirects followed), the status must be one of
// StatusCodes, the body must match BodyRegex and have the MD5 Digest when
// they are set. For ssl_get the
// certificate is verified unless InsecureSkipVerify: against CAFile when set,
// else the system's CAs, for ServerName (default the virtualhost, else the
// target's IP).
type HTTPChecker struct {
	Target netip.AddrPort
	// Timeout bounds the whole attempt (connect_timeout): connect, TLS
	// handshake, request and body; <= 0 leaves only the caller's deadline.
	Timeout time.Duration
	TLS     bool
	Config  conf.HTTPCheck
	// Dialer, when set, dials the connection (bindto, bind_port).
	Dialer ContextDialer

	re    *regexp.Regexp
	reErr error // of compiling BodyRegex

	mu     sync.Mutex
	tlsCfg *tls.Config // built once the CA file was read
}

var _ Checker = (*HTTPChecker)(nil)

// NewHTTPChecker is the Checker of an http_get or ssl_get block. conf has
// validated the regular expression; the CA file is read on the first check
// (and again on each check until it is readable): a missing file is a
// failing check with the reason, not a refused configuration.
func NewHTTPChecker(c conf.Check) *HTTPChecker {
	h := &HTTPChecker{Target: c.Target, Timeout: connectTimeout(c), TLS: c.Kind == conf.CheckSSL}
	if d := sourceDialer(c, "tcp"); d != nil {
		h.Dialer = d
	}
	if c.HTTP != nil {
		h.Config = *c.HTTP
	}
	if h.Config.Path == "" {
		h.Config.Path = "/"
	}
	if len(h.Config.StatusCodes) == 0 {
		h.Config.StatusCodes = []int{http.StatusOK}
	}
	if h.Config.BodyRegex != "" {
		// An invalid pattern fails every check (conf refuses it first).
		h.re, h.reErr = regexp.Compile(h.Config.BodyRegex)
	}
	return h
}

func (h *HTTPChecker) name() string {
	if h.TLS {
		return "ssl_get"
	}
	return "http_get"
}

func (h *HTTPChecker) url() string {
	scheme := "http"
	if h.TLS {
		scheme = "https"
	}
	return scheme + "://" + h.Target.String() + h.Config.Path
}

// tlsConfig returns the client TLS configuration, reading the CA file the
// first time it is needed.
func (h *HTTPChecker) tlsConfig() (*tls.Config, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.tlsCfg != nil {
		return h.tlsCfg, nil
	}
	cfg := &tls.Config{
		ServerName:         h.Config.ServerName,
		InsecureSkipVerify: h.Config.InsecureSkipVerify, //nolint:gosec // explicit opt-out, warned by conf
		MinVersion:         tls.VersionTLS12,
	}
	if cfg.ServerName == "" {
		cfg.ServerName = h.Config.VirtualHost
	}
	if cfg.ServerName == "" {
		// An IP: Go then sends no SNI and verifies the IP SANs.
		cfg.ServerName = h.Target.Addr().String()
	}
	if h.Config.CAFile != "" {
		pem, err := os.ReadFile(h.Config.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", h.Config.CAFile)
		}
		cfg.RootCAs = pool
	}
	h.tlsCfg = cfg
	return cfg, nil
}

// Check runs one GET.
func (h *HTTPChecker) Check(ctx context.Context) error {
	if err := h.check(ctx); err != nil {
		return fmt.Errorf("%s %s: %w", h.name(), h.url(), err)
	}
	return nil
}

func (h *HTTPChecker) check(ctx context.Context) error {
	if h.Config.BodyRegex != "" && h.re == nil {
		return fmt.Errorf("body_regex: %w", h.reErr)
	}
	if h.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.Timeout)
		defer cancel()
	}
	var dialer ContextDialer = &net.Dialer{}
	if h.Dialer != nil {
		// The transport closes its connection from another goroutine,
		// possibly after check returns; a fixed bind_port must be free
		// for the next attempt, so the connection is closed here too.
		var mu sync.Mutex
		var conns []net.Conn
		dialer = dialFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := h.Dialer.DialContext(ctx, network, addr)
			if c != nil {
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
			return c, err
		})
		defer func() {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				_ = c.Close()
			}
		}()
	}
	tr := &http.Transport{
		// A fresh connection per check: the check is that the server
		// accepts one, and no idle connection outlives the attempt.
		DisableKeepAlives:  true,
		DisableCompression: true,
		DialContext:        dialer.DialContext,
		Proxy:              nil, // never through HTTP_PROXY
	}
	if h.TLS {
		cfg, err := h.tlsConfig()
		if err != nil {
			return err
		}
		tr.TLSClientConfig = cfg
		tr.ForceAttemptHTTP2 = false
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		// keepalived compares the first answer; a redirect is a status
		// like any other.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url(), nil)
	if err != nil {
		return err
	}
	if h.Config.VirtualHost != "" {
		req.Host = h.Config.VirtualHost
	}
	req.Header.Set("User-Agent", "lvsd-healthcheck")
	req.Close = true
	resp, err := client.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			// *url.Error repeats the method and URL we already print.
			err = ue.Err
		}
		return err
	}
	defer resp.Body.Close()
	if !slices.Contains(h.Config.StatusCodes, resp.StatusCode) {
		return fmt.Errorf("status %d, want %v", resp.StatusCode, h.Config.StatusCodes)
	}
	if h.re == nil && h.Config.Digest == "" {
		return nil
	}
	// One byte more than maxBody tells a body that was cut.
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("reading body: %w", err)
	}
	if len(body) > maxBody {
		return fmt.Errorf("body larger than %d bytes", maxBody)
	}
	if h.re != nil && !h.re.Match(body) {
		return fmt.Errorf("body (%d bytes) does not match body_regex %q", len(body), h.Config.BodyRegex)
	}
	if h.Config.Digest != "" {
		// keepalived's digest is MD5; it identifies a page, it is not a
		// security control.
		sum := md5.Sum(body)
		if got := hex.EncodeToString(sum[:]); got != h.Config.Digest {
			return fmt.Errorf("body digest %s, want %s", got, h.Config.Digest)
		}
	}
	return nil
}

// dialFunc is a ContextDialer made of a function.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

func (f dialFunc) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return f(ctx, network, addr)
}
