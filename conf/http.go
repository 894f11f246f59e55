package conf

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/crypto/bcrypt"
)

// HTTP is the http block: the operator's HTTP endpoint (/metrics,
// /status.json, /stats). Off when the block is absent (Config.HTTP nil).
type HTTP struct {
	// Listen is the TCP address to serve on (IP:PORT).
	Listen netip.AddrPort
	// Users may read the endpoint with HTTP basic auth (HAProxy's `stats
	// auth USER:PASS`, with a bcrypt hash instead of the password). Empty =
	// no authentication.
	Users []HTTPUser
	// Realm is the basic auth realm shown by browsers (default "lvsd").
	Realm string
	// Refresh is the stats page's auto-refresh interval (HAProxy's `stats
	// refresh`), whole seconds; 0 = no auto-refresh. Default 10s.
	Refresh time.Duration
	// ShowVersion shows lvsd's version on the pages and in the metrics
	// (default false, like HAProxy's `stats hide-version`).
	ShowVersion bool
	// MetricsAuth is whether /metrics needs the users' credentials too.
	// Default: true when users are configured (Prometheus scrapes with
	// basic_auth); false leaves /metrics open for a scraper without them.
	MetricsAuth bool

	DeclRange hcl.Range
}

// HTTPUser is one user block of the http block. PasswordBcrypt is a
// secret: never logged nor shown (String redacts it).
type HTTPUser struct {
	Name           string
	PasswordBcrypt string
}

// String shows the user without its hash.
func (u HTTPUser) String() string { return "user " + u.Name + " password_bcrypt=REDACTED" }

// Defaults of the http block.
const (
	DefaultHTTPRealm   = "lvsd"
	DefaultHTTPRefresh = 10 * time.Second
	maxHTTPRefresh     = time.Hour
)

var httpSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "listen"},
		{Name: "realm"},
		{Name: "refresh"},
		{Name: "show_version"},
		{Name: "metrics_auth"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "user", LabelNames: []string{"name"}}},
}

var httpUserSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "password_bcrypt"},
		// password is in the schema only to refuse it with a useful
		// message instead of hcl's "unsupported argument".
		{Name: "password"},
	},
}

// bcryptHash is the modular crypt format of a bcrypt hash: $2a$, $2b$ or
// $2y$ (htpasswd -B writes 2y), a two-digit cost, then 22 characters of
// salt and 31 of hash in bcrypt's base64 alphabet.
var bcryptHash = regexp.MustCompile(`^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$`)

// http decodes the http block.
func (d *decoder) http(b *hcl.Block) (*HTTP, bool) {
	errs := len(d.diags)
	h := &HTTP{Realm: DefaultHTTPRealm, Refresh: DefaultHTTPRefresh, DeclRange: b.DefRange}
	content, diags := b.Body.Content(httpSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes
	d.require(b, attrs, "listen")

	if a := attrs["listen"]; a != nil {
		if s, ok := d.str(a); ok {
			ap, err := parseAddrPort(s)
			switch {
			case err != nil:
				d.errorf(a.Expr.Range(), "Invalid listen", "listen must be IP:PORT (for example \"127.0.0.1:9999\" or \"[::1]:9999\"); %q is not: %v.", s, err)
			default:
				h.Listen = ap
			}
		}
	}
	if a := attrs["realm"]; a != nil {
		if s, ok := d.str(a); ok {
			// The realm is sent in a quoted WWW-Authenticate parameter.
			if s == "" || len(s) > 64 || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '"' || r == '\\' || r > 0x7e }) {
				d.errorf(a.Expr.Range(), "Invalid realm", "realm must be 1-64 printable ASCII characters without '\"' or '\\'; got %q.", s)
			} else {
				h.Realm = s
			}
		}
	}
	if a := attrs["refresh"]; a != nil {
		if dur, ok := d.duration(a, true); ok {
			// A meta refresh counts whole seconds.
			switch {
			case dur%time.Second != 0:
				d.errorf(a.Expr.Range(), "Invalid refresh", "refresh must be whole seconds (the page's meta refresh counts seconds); got %v.", dur)
			case dur > maxHTTPRefresh:
				d.errorf(a.Expr.Range(), "Invalid refresh", "refresh must be at most %v; got %v (0 turns auto-refresh off).", maxHTTPRefresh, dur)
			default:
				h.Refresh = dur
			}
		}
	}
	if a := attrs["show_version"]; a != nil {
		if v, ok := d.boolean(a); ok {
			h.ShowVersion = v
		}
	}

	seen := map[string]hcl.Range{}
	for _, ub := range content.Blocks {
		dup := d.uniqueLabel(ub, seen)
		if u, ok := d.httpUser(ub); ok && !dup {
			h.Users = append(h.Users, u)
		}
	}
	h.MetricsAuth = len(h.Users) > 0
	if a := attrs["metrics_auth"]; a != nil {
		if v, ok := d.boolean(a); ok {
			if v && len(content.Blocks) == 0 {
				d.errorf(a.Expr.Range(), "Invalid metrics_auth", "metrics_auth = true needs at least one user block in this http block.")
			}
			h.MetricsAuth = v && len(h.Users) > 0
		}
	}
	if len(content.Blocks) == 0 && h.Listen.IsValid() && !h.Listen.Addr().IsLoopback() {
		d.warnf(attrs["listen"].Expr.Range(), "HTTP endpoint without authentication",
			"listen %s is not a loopback address and no user block is set: anyone who reaches it reads the status and metrics.", h.Listen)
	}
	return h, !d.diags[errs:].HasErrors()
}

func (d *decoder) httpUser(b *hcl.Block) (HTTPUser, bool) {
	errs := len(d.diags)
	u := HTTPUser{Name: b.Labels[0]}
	content, diags := b.Body.Content(httpUserSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes
	if strings.ContainsFunc(u.Name, func(r rune) bool { return r == ':' || r < 0x20 || r == 0x7f }) {
		// Basic auth splits "user:password" at the first colon.
		d.errorf(b.LabelRanges[0], "Invalid user name", "user name %q must not contain ':' or control characters.", u.Name)
	}
	if a := attrs["password"]; a != nil {
		// Deliberately not evaluated: its value must not reach a message.
		d.errorf(a.NameRange, "Plaintext password refused",
			"user %q: passwords are stored as bcrypt hashes only; write password_bcrypt = \"$2y$...\" (for example the part after ':' of `htpasswd -nBC 10 %s`).", u.Name, u.Name)
	} else {
		d.require(b, attrs, "password_bcrypt")
	}
	if a := attrs["password_bcrypt"]; a != nil {
		if s, ok := d.str(a); ok {
			if err := checkBcrypt(s); err != nil {
				// The value is not quoted back: a mistyped hash may be
				// a password pasted in the wrong place.
				d.errorf(a.Expr.Range(), "Invalid password_bcrypt", "user %q: password_bcrypt is not a bcrypt hash: %v. Generate one with `htpasswd -nBC 10 %s` (the part after ':').", u.Name, err, u.Name)
			} else {
				u.PasswordBcrypt = s
			}
		}
	}
	return u, !d.diags[errs:].HasErrors()
}

// checkBcrypt accepts a well-formed bcrypt hash with a cost bcrypt accepts.
func checkBcrypt(s string) error {
	if !bcryptHash.MatchString(s) {
		return fmt.Errorf("want $2a$, $2b$ or $2y$, a two-digit cost, '$' and 53 characters of [./A-Za-z0-9] (60 in all; got %d)", len(s))
	}
	cost, err := bcrypt.Cost([]byte(s))
	if err != nil {
		return err
	}
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return fmt.Errorf("cost %d is outside %d-%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	return nil
}
