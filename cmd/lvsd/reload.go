package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/ipvs"
)

// reloadResult is the outcome of one reload, kept for status and returned
// to `lvsd reload`.
type reloadResult struct {
	At      time.Time `json:"at"`
	Trigger string    `json:"trigger"` // "SIGHUP" or "control"
	// Applied is true when the new file is now the running configuration.
	Applied bool   `json:"applied"`
	Error   string `json:"error,omitempty"`
	// Diagnostics are the file's errors and warnings as FILE:LINE,COL lines
	// with their source snippets, secrets redacted.
	Diagnostics string `json:"diagnostics,omitempty"`
	// SHA256 is the hash of the bytes that were read ("" if unreadable).
	SHA256 string `json:"sha256,omitempty"`
	// Changes says what the reload touched ("vrrp_instance VI_1 restarted",
	// "ipvs table changed", "checks changed"); empty = nothing differed.
	Changes []string `json:"changes,omitempty"`
}

// secretAttr matches an attribute that holds a secret in an HCL source
// line, as diagnostics quote it: the value is replaced, the name kept.
var secretAttr = regexp.MustCompile(`(?i)\b(auth_pass|password_bcrypt|password)(\s*=\s*)("(?:[^"\\]|\\.)*"?|[^\s#]+)`)

// redactSecrets hides secret values in text that quotes the config file
// (diagnostic snippets), so that neither logs nor status ever carry them.
func redactSecrets(s string) string {
	return secretAttr.ReplaceAllString(s, `$1$2"REDACTED"`)
}

// reloadPlan is what a new configuration changes in a running director,
// computed before anything is touched.
type reloadPlan struct {
	// VRRPStop are instances to stop: gone, or changed (restarted).
	VRRPStop []string
	// VRRPStart are instances to start: new, or changed.
	VRRPStart []string
	// IPVS is true when the IPVS table the configs ask for differs (every
	// real server assumed up; health moves are not a reload's doing).
	IPVS bool
	// Checks is true when any virtual or real server setting differs.
	Checks bool
	// Probes is true when what the health-check manager is given differs
	// (a checker, a notify program, alpha, a name or address it keys
	// by): only then is it handed the new virtual servers, a walk over
	// every real server (a tenth of a one-weight reload at 10k in the VM).
	Probes bool
}

// planReload compares two validated configs. It is pure: Reload acts on
// its answer, and a reload that changes only checks plans no VRRP and no
// IPVS change.
func planReload(old, cur *conf.Config) reloadPlan {
	var p reloadPlan
	olds := map[string]conf.VRRPInstance{}
	for _, vi := range old.VRRP {
		olds[vi.Name] = vi
	}
	for _, vi := range cur.VRRP {
		o, ok := olds[vi.Name]
		if ok && sameInstance(o, vi) {
			delete(olds, vi.Name)
			continue
		}
		if ok {
			p.VRRPStop = append(p.VRRPStop, vi.Name)
			delete(olds, vi.Name)
		}
		p.VRRPStart = append(p.VRRPStart, vi.Name)
	}
	for name := range olds {
		p.VRRPStop = append(p.VRRPStop, name)
	}
	slices.Sort(p.VRRPStop)
	slices.Sort(p.VRRPStart)

	p.IPVS, p.Checks, p.Probes = planVirtualServers(old.VirtualServers, cur.VirtualServers)
	return p
}

// planVirtualServers tells whether the IPVS table and the checks of two
// lists of virtual servers differ. With as many virtual servers on both
// sides (a reload that edits, say one weight in 10k services), only the
// positions that differ are compared as IPVS tables: Desired is a function
// of the set of virtual servers, service by service, so the table changes
// exactly when the changed ones' tables do, and building the two whole
// tables cost more than the rest of such a reload.
func planVirtualServers(old, cur []conf.VirtualServer) (ipvsChanged, checksChanged, probesChanged bool) {
	if len(old) != len(cur) {
		checksChanged = !reflect.DeepEqual(withoutRanges(old), withoutRanges(cur))
		return !reflect.DeepEqual(ipvs.Desired(old, ipvs.AllUp), ipvs.Desired(cur, ipvs.AllUp)), checksChanged, checksChanged
	}
	var o, c []conf.VirtualServer
	for i := range old {
		if r := old[i].Rev; r != 0 && r == cur[i].Rev {
			continue // sameVirtualServer's first test, without copying both
		}
		if !sameVirtualServer(old[i], cur[i]) {
			o, c = append(o, old[i]), append(c, cur[i])
			probesChanged = probesChanged || !sameProbes(&old[i], &cur[i])
		}
	}
	if len(o) == 0 {
		return false, false, false
	}
	return !reflect.DeepEqual(ipvs.Desired(o, ipvs.AllUp), ipvs.Desired(c, ipvs.AllUp)), true, probesChanged
}

// sameProbes tells whether healthcheck.Manager.Set would be given the same
// for a and b: the keys it files servers under, alpha, and each real
// server's address, checkers and notify programs.
func sameProbes(a, b *conf.VirtualServer) bool {
	if healthcheck.VSKey(*a) != healthcheck.VSKey(*b) || a.Alpha != b.Alpha || len(a.RealServers) != len(b.RealServers) {
		return false
	}
	for k := range a.RealServers {
		x, y := &a.RealServers[k], &b.RealServers[k]
		if x.Address != y.Address || !slices.Equal(x.NotifyUp(), y.NotifyUp()) || !slices.Equal(x.NotifyDown(), y.NotifyDown()) ||
			!slices.EqualFunc(x.Checks, y.Checks, conf.Check.Equal) {
			return false
		}
	}
	return true
}

// sameVirtualServer compares two virtual servers ignoring where they are
// in the file. The same Rev means the same decoding of the block (a
// conf.Cache handed it back), so equal without looking further: at 10k
// virtual servers the field-by-field comparison was a tenth of a reload.
// Real servers in the same array are not compared again either.
func sameVirtualServer(a, b conf.VirtualServer) bool {
	if a.Rev != 0 && a.Rev == b.Rev {
		return true
	}
	ars, brs := a.RealServers, b.RealServers
	if len(ars) != len(brs) {
		return false
	}
	a.RealServers, b.RealServers = nil, nil
	a.DeclRange, b.DeclRange = hcl.Range{}, hcl.Range{}
	a.Rev, b.Rev = 0, 0
	if !reflect.DeepEqual(a, b) {
		return false
	}
	if len(ars) == 0 || &ars[0] == &brs[0] {
		return true
	}
	for i := range ars {
		x, y := ars[i], brs[i]
		x.DeclRange, y.DeclRange = conf.Pos{}, conf.Pos{}
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

// withoutRanges copies virtual servers with their source positions zeroed,
// so that moving a block in the file is not a change.
func withoutRanges(vss []conf.VirtualServer) []conf.VirtualServer {
	out := make([]conf.VirtualServer, len(vss))
	for i, vs := range vss {
		vs.DeclRange, vs.Rev = hcl.Range{}, 0
		rss := make([]conf.RealServer, len(vs.RealServers))
		for j, rs := range vs.RealServers {
			rs.DeclRange = conf.Pos{}
			rss[j] = rs
		}
		vs.RealServers = rss
		out[i] = vs
	}
	return out
}

// changes describes the plan for logs and status.
func (p reloadPlan) changes() []string {
	var out []string
	stop := map[string]bool{}
	for _, n := range p.VRRPStop {
		stop[n] = true
	}
	for _, n := range p.VRRPStart {
		if stop[n] {
			out = append(out, fmt.Sprintf("vrrp_instance %q restarted", n))
			delete(stop, n)
		} else {
			out = append(out, fmt.Sprintf("vrrp_instance %q started", n))
		}
	}
	for _, n := range p.VRRPStop {
		if stop[n] {
			out = append(out, fmt.Sprintf("vrrp_instance %q stopped", n))
		}
	}
	if p.IPVS {
		out = append(out, "ipvs table changed")
	}
	if p.Checks && !p.IPVS {
		out = append(out, "checks changed")
	}
	return out
}

// runReload implements `lvsd reload`: ask the running daemon to re-read its
// file. The file's diagnostics go to stderr; exit 0 when the new file is
// running, 1 when it was refused (the old configuration keeps running).
func runReload(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("reload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("control", "/run/lvsd.sock", "control `SOCKET` of the running daemon")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lvsd reload: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	resp, err := controlClient(*path, 60*time.Second).Post("http://lvsd/reload", "", nil)
	if err != nil {
		fmt.Fprintf(stderr, "lvsd reload: %v (is the daemon running with --control %s?)\n", err, *path)
		return 1
	}
	defer resp.Body.Close()
	var r reloadResult
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		fmt.Fprintf(stderr, "lvsd reload: %s: decode answer: %v\n", resp.Status, err)
		return 1
	}
	return printReload(stdout, stderr, &r, resp.StatusCode)
}

func printReload(stdout, stderr io.Writer, r *reloadResult, code int) int {
	fmt.Fprint(stderr, r.Diagnostics)
	if !r.Applied || code != http.StatusOK {
		fmt.Fprintf(stderr, "lvsd reload: refused, the running configuration is kept: %s\n", r.Error)
		return 1
	}
	hash := r.SHA256
	if len(hash) > 12 {
		hash = hash[:12]
	}
	if len(r.Changes) == 0 {
		fmt.Fprintf(stdout, "reloaded (sha256:%s): no change\n", hash)
		return 0
	}
	fmt.Fprintf(stdout, "reloaded (sha256:%s):\n", hash)
	for _, c := range r.Changes {
		fmt.Fprintf(stdout, "  %s\n", c)
	}
	return 0
}
