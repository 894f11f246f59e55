package rules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	natTable   = "nat"
	preRouting = "PREROUTING"
	// commentPrefix marks a rule as lvsd's. Everything after it is the VIP
	// the rule serves, so ownership can be read back from the kernel alone
	// (after a crash, or a reload that dropped a VIP) without state files.
	commentPrefix = "lvsd: "
	// DefaultInterval is the reconcile period Run uses when given 0.
	DefaultInterval = time.Second
)

// Table is the part of go-iptables the agent uses; *iptables.IPTables
// satisfies it. One List per family per pass gives every rule of the chain,
// which is what detecting duplicates needs (iptables -C only says "some
// rule matches"), so Exists is not part of it.
type Table interface {
	// List returns the chain as `iptables -t table -S chain` prints it.
	List(table, chain string) ([]string, error)
	Append(table, chain string, rulespec ...string) error
	// Delete removes the first rule equal to rulespec.
	Delete(table, chain string, rulespec ...string) error
}

// Spec returns the rule arguments (after "-A PREROUTING") lvsd keeps for
// vip. Matching is the same as the plain `-d VIP -j REDIRECT` of a
// hand-written setup: the comment match always matches, it only labels the
// rule as lvsd's so reload and shutdown delete exactly the rules lvsd
// added. The address is written with its full-length prefix because that is
// how iptables prints it back, so a listed rule compares equal to Spec.
func Spec(vip netip.Addr) []string {
	vip = vip.Unmap()
	return []string{
		"-d", netip.PrefixFrom(vip, vip.BitLen()).String(),
		"-m", "comment", "--comment", commentPrefix + vip.String(),
		"-j", "REDIRECT",
	}
}

// op is one change to a chain: append or delete Args.
type op struct {
	del  bool
	vip  netip.Addr // invalid for a deleted lvsd rule whose comment names no address
	args []string
}

// plan compares one family's PREROUTING listing with the wanted VIPs and
// returns the ops that leave exactly one Spec rule per wanted VIP and no
// other lvsd rule, plus the set of wanted VIPs already correctly present.
// Appends come first so that replacing a damaged rule never leaves a
// moment without one. Lines that are not lvsd's are never touched.
func plan(want []netip.Addr, lines []string) (present map[netip.Addr]bool, ops []op) {
	wanted := make(map[netip.Addr]bool, len(want))
	for _, v := range want {
		wanted[v.Unmap()] = true
	}
	present = make(map[netip.Addr]bool)
	var dels []op
	for _, line := range lines {
		args, err := splitRule(line)
		if err != nil || len(args) < 2 || args[0] != "-A" {
			continue // policy lines (-P), or something we cannot read: not ours
		}
		rest := args[2:]
		owner, ok := ownerOf(rest)
		if !ok {
			continue
		}
		if owner.IsValid() && wanted[owner] && !present[owner] && slices.Equal(rest, Spec(owner)) {
			present[owner] = true
			continue
		}
		// A duplicate, a rule for a VIP no longer configured, or an lvsd
		// rule someone edited: delete it by its own arguments.
		dels = append(dels, op{del: true, vip: owner, args: rest})
	}
	for _, v := range want {
		v = v.Unmap()
		if !present[v] && !slices.ContainsFunc(ops, func(o op) bool { return o.vip == v }) {
			ops = append(ops, op{vip: v, args: Spec(v)})
		}
	}
	return present, append(ops, dels...)
}

// ownerOf reports whether a rule carries lvsd's comment, and for which VIP.
// A comment with the prefix but no parsable address is still lvsd's
// (returned with an invalid address) so that it is cleaned up.
func ownerOf(args []string) (netip.Addr, bool) {
	for i := 0; i+1 < len(args); i++ {
		if args[i] != "--comment" {
			continue
		}
		c, ok := strings.CutPrefix(args[i+1], commentPrefix)
		if !ok {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(c)
		if err != nil {
			return netip.Addr{}, true
		}
		return a.Unmap(), true
	}
	return netip.Addr{}, false
}

// RuleStatus is one VIP's rule as `lvsd status` shows it.
type RuleStatus struct {
	VIP netip.Addr `json:"vip"`
	// Present is true when the last pass found or installed the rule.
	Present bool `json:"present"`
	// Repairs counts re-installs of a rule that had been in place before
	// (someone deleted it or flushed the table).
	Repairs int `json:"repairs"`
	// Error is the last pass's failure for this VIP, if any.
	Error string `json:"error,omitempty"`
}

type vipState struct {
	present bool
	seen    bool // the rule has been in place at least once
	repairs int
	err     error
}

// Agent keeps the REDIRECT rules of a set of VIPs in place. Its methods are
// safe for concurrent use.
type Agent struct {
	v4, v6 Table
	log    *slog.Logger

	// opMu serialises passes over the kernel; mu guards the fields below
	// and is never held while iptables runs, so Status stays responsive
	// even when iptables waits for the xtables lock.
	opMu  sync.Mutex
	mu    sync.Mutex
	vips  []netip.Addr
	state map[netip.Addr]*vipState

	kick chan struct{} // SetVIPs asks Run for an immediate pass
}

// NewAgent returns an agent for vips using v4 for IPv4 VIPs and v6 for
// IPv6 VIPs. Either table may be nil when the host lacks that family; a
// VIP of a missing family then reports an error in every pass.
func NewAgent(vips []netip.Addr, v4, v6 Table, log *slog.Logger) *Agent {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Agent{v4: v4, v6: v6, log: log, state: map[netip.Addr]*vipState{}, kick: make(chan struct{}, 1)}
	a.setVIPs(vips)
	return a
}

// SetVIPs replaces the VIP set (config reload). It changes no rule itself:
// Run makes a pass at once, installing rules for new VIPs and deleting those
// of VIPs no longer listed; without Run, the next Reconcile does.
func (a *Agent) SetVIPs(vips []netip.Addr) {
	a.setVIPs(vips)
	select {
	case a.kick <- struct{}{}:
	default: // a pass is already pending
	}
}

func (a *Agent) setVIPs(vips []netip.Addr) {
	norm := make([]netip.Addr, 0, len(vips))
	for _, v := range vips {
		if v.IsValid() {
			norm = append(norm, v.Unmap().WithZone(""))
		}
	}
	slices.SortFunc(norm, netip.Addr.Compare)
	norm = slices.Compact(norm)

	a.mu.Lock()
	defer a.mu.Unlock()
	a.vips = norm
	for v := range a.state {
		if !slices.Contains(norm, v) {
			delete(a.state, v) // a VIP added again later starts afresh
		}
	}
	for _, v := range norm {
		if a.state[v] == nil {
			a.state[v] = &vipState{}
		}
	}
}

// Status returns one entry per configured VIP, in address order.
func (a *Agent) Status() []RuleStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]RuleStatus, 0, len(a.vips))
	for _, v := range a.vips {
		s := a.state[v]
		rs := RuleStatus{VIP: v, Present: s.present, Repairs: s.repairs}
		if s.err != nil {
			rs.Error = s.err.Error()
		}
		out = append(out, rs)
	}
	return out
}

// Reconcile makes one pass: per family it lists nat PREROUTING once, then
// appends the missing rules and deletes duplicates and lvsd rules of VIPs
// no longer configured. Running it again changes nothing. A rule that was
// in place before and is missing now is re-installed and logged as
// "repaired" at Warn. Errors of all VIPs and families are joined.
func (a *Agent) Reconcile() error {
	a.opMu.Lock()
	defer a.opMu.Unlock()

	a.mu.Lock()
	want := slices.Clone(a.vips)
	a.mu.Unlock()

	var v4, v6 []netip.Addr
	for _, v := range want {
		if v.Is4() {
			v4 = append(v4, v)
		} else {
			v6 = append(v6, v)
		}
	}
	return errors.Join(
		a.reconcileFamily("ipv4", a.v4, v4),
		a.reconcileFamily("ipv6", a.v6, v6),
	)
}

// reconcileFamily applies plan to one family and records the outcome per VIP.
func (a *Agent) reconcileFamily(family string, t Table, want []netip.Addr) error {
	if t == nil {
		if len(want) == 0 {
			return nil
		}
		err := fmt.Errorf("rules: no %s iptables available", family)
		a.record(want, nil, nil, err)
		return err
	}
	lines, err := t.List(natTable, preRouting)
	if err != nil {
		err = fmt.Errorf("rules: list %s nat %s: %w", family, preRouting, err)
		a.record(want, nil, nil, err)
		return err
	}
	present, ops := plan(want, lines)
	failed := map[netip.Addr]error{}
	var errs []error
	for _, o := range ops {
		if !o.del {
			if err := t.Append(natTable, preRouting, o.args...); err != nil {
				err = fmt.Errorf("rules: append %s: %w", joinRule(o.args), err)
				failed[o.vip] = err
				errs = append(errs, err)
				continue
			}
			present[o.vip] = true
			a.announceInstall(o.vip)
			continue
		}
		if err := t.Delete(natTable, preRouting, o.args...); err != nil {
			err = fmt.Errorf("rules: delete %s: %w", joinRule(o.args), err)
			if o.vip.IsValid() && slices.Contains(want, o.vip) {
				failed[o.vip] = err
			}
			errs = append(errs, err)
			continue
		}
		a.log.Info("rule removed", "vip", o.vip, "rule", joinRule(o.args))
	}
	a.record(want, present, failed, nil)
	return errors.Join(errs...)
}

// announceInstall logs an append: the first install of a VIP's rule is
// routine, a re-install means something removed it behind lvsd's back.
func (a *Agent) announceInstall(vip netip.Addr) {
	a.mu.Lock()
	s := a.state[vip]
	repaired := s != nil && s.seen
	if repaired {
		s.repairs++
	}
	a.mu.Unlock()
	if repaired {
		a.log.Warn("repaired", "vip", vip)
	} else {
		a.log.Info("rule installed", "vip", vip)
	}
}

// record stores a pass's outcome. With all set, every VIP of want gets
// that error and keeps its last known presence (the kernel was not read).
func (a *Agent) record(want []netip.Addr, present map[netip.Addr]bool, failed map[netip.Addr]error, all error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, v := range want {
		s := a.state[v]
		if s == nil {
			continue // dropped by SetVIPs during the pass
		}
		if all != nil {
			s.err = all
			continue
		}
		s.present = present[v]
		s.seen = s.seen || s.present
		s.err = failed[v]
	}
}

// Remove deletes every lvsd rule in both families, configured VIP or not,
// and leaves other rules alone. Run calls it on shutdown.
func (a *Agent) Remove() error {
	a.opMu.Lock()
	defer a.opMu.Unlock()
	var errs []error
	for _, f := range []struct {
		name string
		t    Table
	}{{"ipv4", a.v4}, {"ipv6", a.v6}} {
		if f.t == nil {
			continue
		}
		lines, err := f.t.List(natTable, preRouting)
		if err != nil {
			errs = append(errs, fmt.Errorf("rules: list %s nat %s: %w", f.name, preRouting, err))
			continue
		}
		_, ops := plan(nil, lines)
		for _, o := range ops {
			if err := f.t.Delete(natTable, preRouting, o.args...); err != nil {
				errs = append(errs, fmt.Errorf("rules: delete %s: %w", joinRule(o.args), err))
				continue
			}
			a.log.Info("rule removed", "vip", o.vip)
		}
	}
	a.mu.Lock()
	for _, s := range a.state {
		s.present = false
	}
	a.mu.Unlock()
	return errors.Join(errs...)
}

// Run reconciles at once, then every interval (DefaultInterval when 0) and
// after each SetVIPs, so a deleted rule or a flushed nat table is repaired
// within one interval. Failed passes are logged and retried on the next
// tick: iptables may be busy, and the agent must not give up on a real
// server that is serving traffic. When ctx is done Run removes lvsd's rules
// and returns the removal's error (nil on a clean stop).
func (a *Agent) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	return a.run(ctx, t.C)
}

// run is Run with the clock injected, for tests.
func (a *Agent) run(ctx context.Context, tick <-chan time.Time) error {
	for {
		if err := a.Reconcile(); err != nil {
			a.log.Error("reconcile failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return a.Remove()
		case <-tick:
		case <-a.kick:
		}
	}
}
