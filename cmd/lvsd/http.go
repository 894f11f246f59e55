package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/lvsd/lvsd/conf"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/crypto/bcrypt"
)

// httpEndpoint is the operator's HTTP endpoint (the http block): /metrics
// for Prometheus, /status.json (the control socket's document) and /stats,
// a page for people. Everything it shows is read from the daemon's status
// at request time; it keeps no counters of its own.
//
// The listener and the settings change only through prepare/commit, so a
// reload that cannot bind the new address keeps the old listener serving.
type httpEndpoint struct {
	log    *slog.Logger
	status func() statusDoc
	// reloads reports the reload counters for /metrics.
	reloads func() reloadCounts

	// settings is read by every request; swapped whole by commit.
	settings atomic.Pointer[httpSettings]

	mu  sync.Mutex // guards srv, ln, cur
	srv *http.Server
	ln  net.Listener
	cur *conf.HTTP

	reg *prometheus.Registry

	// authLog limits "authentication failed" lines: a password guesser
	// must not flood the log.
	authLog logLimiter
}

// logLimiter lets one line through per interval and counts the others.
type logLimiter struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

const authLogInterval = time.Second

// allow reports whether to log now and how many lines were held back
// since the last one.
func (l *logLimiter) allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < authLogInterval {
		l.suppressed++
		return false, 0
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	return true, n
}

// reloadCounts are the daemon's reload outcomes since start.
type reloadCounts struct {
	OK, Failed uint64
}

// httpSettings is what requests need from the http block, with the users
// turned into a lookup table and a cache of verified credentials.
type httpSettings struct {
	cfg   *conf.HTTP
	users map[string][]byte // name -> bcrypt hash
	// verified caches sha256(user, password, hash) of credentials that
	// passed bcrypt, so a page refreshing every few seconds or a
	// Prometheus scrape costs one bcrypt per settings generation instead
	// of one per request. Bounded; cleared with the settings.
	vmu      sync.Mutex
	verified map[[32]byte]bool
}

const maxVerified = 64

// dummyHash is compared against when the user is unknown, so that a wrong
// user name costs the same bcrypt time as a wrong password (no user
// enumeration by timing). It is a constant, bcrypt's DefaultCost hash of
// "lvsd: no such user": generating it at start cost every lvsd command,
// `lvsd reload` and `lvsd version` included, a bcrypt run (seconds under
// the VM's software emulation).
var dummyHash = []byte("$2a$10$TvZFL15R.ATkK.emayq2helm1aLfdBXDhvvSCLMmuOmEQV5gqvBom")

func newHTTPSettings(cfg *conf.HTTP) *httpSettings {
	s := &httpSettings{cfg: cfg, users: map[string][]byte{}, verified: map[[32]byte]bool{}}
	for _, u := range cfg.Users {
		s.users[u.Name] = []byte(u.PasswordBcrypt)
	}
	return s
}

// authorized checks basic auth credentials against the users.
func (s *httpSettings) authorized(r *http.Request) (user string, ok bool) {
	user, pass, has := r.BasicAuth()
	if !has {
		return "", false
	}
	hash, known := s.users[user]
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s\x00%s\x00%s", len(user), user, pass, hash)
	var key [32]byte
	copy(key[:], h.Sum(nil))
	s.vmu.Lock()
	hit := s.verified[key]
	s.vmu.Unlock()
	if known && hit {
		return user, true
	}
	if !known {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(pass))
		return user, false
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil {
		return user, false
	}
	s.vmu.Lock()
	if len(s.verified) >= maxVerified {
		clear(s.verified)
	}
	s.verified[key] = true
	s.vmu.Unlock()
	return user, true
}

func newHTTPEndpoint(log *slog.Logger, status func() statusDoc, reloads func() reloadCounts) *httpEndpoint {
	e := &httpEndpoint{log: log, status: status, reloads: reloads}
	e.reg = prometheus.NewRegistry()
	e.reg.MustRegister(
		&lvsdCollector{e: e},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return e
}

// httpChange is a prepared switch to a new http block: the new listener
// is already bound (or nothing needs binding). commit makes it current;
// abort releases what prepare took.
type httpChange struct {
	e    *httpEndpoint
	cfg  *conf.HTTP
	ln   net.Listener // new listener to serve on; nil = keep the current one (or none)
	stop bool         // the block was removed: close the listener
	desc string
}

// prepare validates that cfg can be served: when the listen address
// changes, the new one is bound now, before the reload touches anything,
// so a failure refuses the reload and the old listener keeps serving.
func (e *httpEndpoint) prepare(cfg *conf.HTTP) (*httpChange, error) {
	if e == nil {
		// A daemon built without an endpoint (tests of other parts).
		return &httpChange{}, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c := &httpChange{e: e, cfg: cfg}
	switch {
	case cfg == nil && e.cur == nil:
		return c, nil
	case cfg == nil:
		c.stop = true
		c.desc = "http endpoint " + e.cur.Listen.String() + " stopped"
		return c, nil
	case e.cur != nil && e.cur.Listen == cfg.Listen:
		if !sameHTTP(e.cur, cfg) {
			c.desc = "http settings changed"
		}
		return c, nil
	}
	ln, err := net.Listen("tcp", cfg.Listen.String())
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	c.ln = ln
	if e.cur == nil {
		c.desc = "http endpoint started on " + cfg.Listen.String()
	} else {
		c.desc = "http endpoint moved from " + e.cur.Listen.String() + " to " + cfg.Listen.String()
	}
	return c, nil
}

// sameHTTP compares two blocks ignoring where they sit in the file.
func sameHTTP(a, b *conf.HTTP) bool {
	x, y := *a, *b
	x.DeclRange, y.DeclRange = hcl.Range{}, hcl.Range{}
	return reflect.DeepEqual(x, y)
}

func (c *httpChange) abort() {
	if c.ln != nil {
		c.ln.Close()
	}
}

// commit switches to the prepared block and says what changed ("" =
// nothing).
func (c *httpChange) commit() string {
	e := c.e
	if e == nil {
		return ""
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c.cfg != nil {
		e.settings.Store(newHTTPSettings(c.cfg))
	}
	if c.stop || c.ln != nil {
		e.shutdownLocked()
	}
	e.cur = c.cfg
	if c.ln != nil {
		e.serveLocked(c.ln)
	}
	if c.desc != "" {
		e.log.Info(c.desc)
	}
	return c.desc
}

// apply is prepare + commit, for start-up.
func (e *httpEndpoint) apply(cfg *conf.HTTP) error {
	c, err := e.prepare(cfg)
	if err != nil {
		return err
	}
	c.commit()
	return nil
}

func (e *httpEndpoint) serveLocked(ln net.Listener) {
	srv := &http.Server{
		Handler:           e.handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(e.log.Handler(), slog.LevelDebug),
	}
	e.srv, e.ln = srv, ln
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("http endpoint stopped", "listen", ln.Addr().String(), "err", err)
		}
	}()
}

func (e *httpEndpoint) shutdownLocked() {
	if e.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		_ = e.srv.Close()
	}
	e.srv, e.ln = nil, nil
}

// close stops serving (daemon exit).
func (e *httpEndpoint) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.shutdownLocked()
	e.cur = nil
}

// addr is where the endpoint listens ("" = not listening).
func (e *httpEndpoint) addr() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ln == nil {
		return ""
	}
	return e.ln.Addr().String()
}

func (e *httpEndpoint) handler() http.Handler {
	mux := http.NewServeMux()
	metrics := promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	mux.Handle("GET /metrics", e.auth(true, metrics))
	mux.Handle("GET /status.json", e.auth(false, http.HandlerFunc(e.serveStatusJSON)))
	mux.Handle("GET /stats", e.auth(false, http.HandlerFunc(e.serveStats)))
	mux.Handle("GET /{$}", e.auth(false, http.RedirectHandler("/stats", http.StatusFound)))
	return securityHeaders(mux)
}

// securityHeaders: the pages load nothing from anywhere (inline CSS only),
// are never framed and never cached (they carry live state).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// auth enforces basic auth when users are configured; /metrics
// (isMetrics) only when metrics_auth is on. A missing or wrong credential
// gets 401 with the realm, as browsers and Prometheus' basic_auth expect.
func (e *httpEndpoint) auth(isMetrics bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := e.settings.Load()
		need := len(s.users) > 0 && (!isMetrics || s.cfg.MetricsAuth)
		if need {
			user, ok := s.authorized(r)
			if !ok {
				if user != "" {
					// Never the password: only who tried, from where.
					if ok, n := e.authLog.allow(time.Now()); ok {
						e.log.Info("http: authentication failed", "user", user, "remote", r.RemoteAddr, "path", r.URL.Path, "suppressed", n)
					}
				}
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Basic realm=%q, charset="UTF-8"`, s.cfg.Realm))
				http.Error(w, "401 unauthorized: this lvsd endpoint needs a user and password", http.StatusUnauthorized)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// publicStatus is the status as served over HTTP: the control socket's
// document, with the version removed unless show_version is set.
func (e *httpEndpoint) publicStatus() statusDoc {
	st := e.status()
	if s := e.settings.Load(); s == nil || !s.cfg.ShowVersion {
		st.Version = ""
	}
	return st
}

func (e *httpEndpoint) serveStatusJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(e.publicStatus()); err != nil {
		e.log.Debug("http: write status", "err", err)
	}
}
