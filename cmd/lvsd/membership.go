package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/ipvs"
)

// memberState is the director's share of health-driven membership: the
// quorum memory (ipvs.Membership), the real servers drained by hand and the
// queue of quorum_up/quorum_down programs.
type memberState struct {
	// membership is used under director.desiredMu (publishDesired).
	membership *ipvs.Membership

	drainMu sync.Mutex
	// drained survives reloads for as long as the daemon runs.
	drained map[ipvs.DestKey]bool
	// drainGen counts the changes of drained (healthGen).
	drainGen uint64

	scriptMu    sync.Mutex
	scriptQueue []ipvs.QuorumEvent
	scriptWake  chan struct{}
	// runScript runs one notify program (tests replace it).
	runScript func(ctx context.Context, c *conf.Command) error
}

func newMemberState() memberState {
	return memberState{
		membership: ipvs.NewMembership(),
		drained:    map[ipvs.DestKey]bool{},
		scriptWake: make(chan struct{}, 1),
		runScript:  runCommand,
	}
}

// runCommand runs a notify program through misc_check's runner: no shell,
// its own process group killed at the timeout, a minimal environment.
func runCommand(ctx context.Context, c *conf.Command) error {
	m := &healthcheck.MiscChecker{Argv: c.Argv, Timeout: c.Timeout}
	return m.Check(ctx)
}

// health is the verdict Desired gets for one real server: the checker's,
// and whether an operator drained it.
func (d *director) health(vs conf.VirtualServer, rs conf.RealServer) ipvs.Health {
	vk, rk := healthcheck.VSKey(vs), healthcheck.RSKey(rs)
	h := ipvs.Health{Up: d.checks.Up(vk, rk)}
	// misc_dynamic (keepalived: exit 2-255 = weight code - 2).
	h.Weight, h.WeightSet = d.checks.Weight(vk, rk)
	d.drainMu.Lock()
	h.Draining = d.drained[ipvs.DestKey{Service: ipvs.KeyOf(vs), Dest: rs.Address}]
	d.drainMu.Unlock()
	return h
}

// healthGen numbers the states of what health answers, for
// ipvs.Membership.DesiredGen: both counters only grow, so their sum changes
// whenever either does. Read before health is asked, so a change during a
// build makes the next build start over.
func (d *director) healthGen() uint64 {
	d.drainMu.Lock()
	g := d.drainGen
	d.drainMu.Unlock()
	return g + d.checks.Gen()
}

// queueQuorum hands quorum events to the script loop, in order.
func (d *director) queueQuorum(evs []ipvs.QuorumEvent) {
	for _, ev := range evs {
		attrs := []any{"vs", ev.Key.String(), "name", ev.VS, "weight_sum", ev.WeightSum, "threshold", ev.Threshold}
		switch {
		case ev.Removed:
			d.log.Info("virtual server removed with quorum up", attrs...)
		case ev.Up:
			d.log.Info("quorum gained", attrs...)
		case ev.Init:
			d.log.Warn("starting with quorum down", attrs...)
		default:
			d.log.Warn("quorum lost", attrs...)
		}
	}
	d.scriptMu.Lock()
	for _, ev := range evs {
		if ev.Script != nil {
			d.scriptQueue = append(d.scriptQueue, ev)
		}
	}
	d.scriptMu.Unlock()
	select {
	case d.scriptWake <- struct{}{}:
	default:
	}
}

// runScripts runs queued quorum programs one at a time (keepalived's
// notify_exec does not wait, but running them in order means a quick
// down/up never leaves the world in the "down" script's state).
func (d *director) runScripts(ctx context.Context) error {
	for {
		d.scriptMu.Lock()
		var ev *ipvs.QuorumEvent
		if len(d.scriptQueue) > 0 {
			e := d.scriptQueue[0]
			d.scriptQueue = d.scriptQueue[1:]
			ev = &e
		}
		d.scriptMu.Unlock()
		if ev == nil {
			select {
			case <-ctx.Done():
				return nil
			case <-d.scriptWake:
			}
			continue
		}
		d.runNotify(ctx, *ev)
	}
}

func (d *director) runNotify(ctx context.Context, ev ipvs.QuorumEvent) {
	which := "quorum_down"
	if ev.Up {
		which = "quorum_up"
	}
	start := time.Now()
	err := d.runScript(ctx, ev.Script)
	if err != nil {
		d.log.Error(which+" failed", "vs", ev.Key.String(), "cmd", ev.Script.Line, "err", err)
		return
	}
	d.log.Info(which+" ran", "vs", ev.Key.String(), "cmd", ev.Script.Line, "took", time.Since(start).Round(time.Millisecond))
}

// omega runs quorum_down of every virtual server with omega when lvsd stops
// (keepalived's clear_services: with omega the down notifiers run on
// shutdown, whatever the quorum state), one at a time, each bounded by its
// timeout.
func (d *director) omega(cfg *conf.Config) {
	for _, vs := range cfg.VirtualServers {
		if !vs.Omega || vs.QuorumDown == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), vs.QuorumDown.Timeout+time.Second)
		d.runNotify(ctx, ipvs.QuorumEvent{VS: vs.Name, Key: ipvs.KeyOf(vs), Script: vs.QuorumDown})
		cancel()
	}
}

// errNotFound is a drain request naming no configured server.
var errNotFound = errors.New("not found")

// findRS resolves the operator's words: the virtual server by name,
// "ADDR:PORT" or "PROTO ADDR:PORT", the real server by name or ADDR:PORT.
func findRS(vss []conf.VirtualServer, vsArg, rsArg string) (conf.VirtualServer, conf.RealServer, error) {
	var cands []conf.VirtualServer
	for _, vs := range vss {
		k := ipvs.KeyOf(vs)
		if vs.Name == vsArg || vs.Address.String() == vsArg || strings.EqualFold(k.String(), vsArg) {
			cands = append(cands, vs)
		}
	}
	switch len(cands) {
	case 0:
		return conf.VirtualServer{}, conf.RealServer{}, fmt.Errorf("virtual server %q: %w", vsArg, errNotFound)
	case 1:
	default:
		return conf.VirtualServer{}, conf.RealServer{}, fmt.Errorf("virtual server %q is ambiguous (%d match); name it by \"PROTO ADDR:PORT\"", vsArg, len(cands))
	}
	vs := cands[0]
	for _, rs := range vs.RealServers {
		if rs.Name == rsArg || rs.Address.String() == rsArg {
			return vs, rs, nil
		}
	}
	// The address ipvsadm -Ln shows: a DR or TUN real server's carries
	// the service's port (conf.VirtualServer.DestAddr).
	for _, rs := range vs.RealServers {
		if vs.DestAddrOf(&rs).String() == rsArg {
			return vs, rs, nil
		}
	}
	return vs, conf.RealServer{}, fmt.Errorf("real server %q of virtual server %q: %w", rsArg, vs.Name, errNotFound)
}

// drainResult answers POST /drain and /undrain.
type drainResult struct {
	VS      string         `json:"vs"`
	RS      netip.AddrPort `json:"rs"`
	Drained bool           `json:"drained"`
	Changed bool           `json:"changed"`
}

// setDrain drains (on) or undrains a configured real server. The drain
// stays until undrain, across reloads, while the daemon runs.
func (d *director) setDrain(vsArg, rsArg string, on bool) (drainResult, error) {
	d.mu.Lock()
	vss := d.cfg.VirtualServers
	d.mu.Unlock()
	vs, rs, err := findRS(vss, vsArg, rsArg)
	if err != nil {
		return drainResult{}, err
	}
	k := ipvs.DestKey{Service: ipvs.KeyOf(vs), Dest: rs.Address}
	d.drainMu.Lock()
	changed := d.drained[k] != on
	if on {
		d.drained[k] = true
	} else {
		delete(d.drained, k)
	}
	if changed {
		d.drainGen++
	}
	d.drainMu.Unlock()
	if changed {
		verb := "undrain"
		if on {
			verb = "drain"
		}
		d.log.Info(verb+" requested", "vs", k.Service.String(), "rs", rs.Address.String())
		if d.rec != nil {
			d.publishDesired()
		}
	}
	return drainResult{VS: k.Service.String(), RS: rs.Address, Drained: on, Changed: changed}, nil
}

// drainStatus is what `lvsd status` shows of drains: the manual ones and
// those the reconciler is carrying out with their connections left.
type drainStatus struct {
	VS          string         `json:"vs"`
	RS          netip.AddrPort `json:"rs"`
	Manual      bool           `json:"manual"`
	InKernel    bool           `json:"in_kernel"`
	Since       time.Time      `json:"since,omitzero"`
	Deadline    time.Time      `json:"deadline,omitzero"`
	ActiveConns int            `json:"active_conns"`
	InactConns  int            `json:"inact_conns"`
}

func (d *director) drainStatuses() []drainStatus {
	var out []drainStatus
	var active []ipvs.Drain
	if d.rec != nil {
		active = d.rec.Drains()
	}
	for _, a := range active {
		out = append(out, drainStatus{VS: a.Service.String(), RS: a.Dest, Manual: a.Manual, InKernel: true,
			Since: a.Since, Deadline: a.Deadline, ActiveConns: a.ActiveConns, InactConns: a.InactConns})
	}
	d.drainMu.Lock()
	for k := range d.drained {
		if !slices.ContainsFunc(active, func(a ipvs.Drain) bool { return a.DestKey == k }) {
			// Drained and already deleted from the kernel.
			out = append(out, drainStatus{VS: k.Service.String(), RS: k.Dest, Manual: true})
		}
	}
	d.drainMu.Unlock()
	slices.SortFunc(out, func(a, b drainStatus) int {
		if c := strings.Compare(a.VS, b.VS); c != 0 {
			return c
		}
		return a.RS.Compare(b.RS)
	})
	return out
}
