package main

import (
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lvsd/lvsd/ipvs"
)

// The stats page is one self-contained HTML document (CSS inline, no
// scripts, no external assets: the Content-Security-Policy forbids them),
// rendered with html/template so that every value from the status (names,
// check errors) is escaped.
//
//go:embed http_stats.html
var statsHTML string

var statsTmpl = template.Must(template.New("stats").Parse(statsHTML))

type statsPage struct {
	Host     string
	Mode     string
	Version  string // "" unless show_version
	Now      string
	Refresh  int // seconds; 0 = no auto-refresh
	Uptime   string
	Config   configStatus
	ConfigID string // short sha256
	Reload   *reloadView

	VRRP []vrrpView
	VS   []vsView
	IPVS string // sync line
	// Problems are shown in a banner at the top.
	Problems []string

	// Totals for the summary line.
	Up, Down, Drain int
}

type reloadView struct {
	Ago, Trigger, Text string
	OK                 bool
}

type vrrpView struct {
	Name, Interface, State, Class, Master, VIPs, Since, Drops string
	VRID                                                      uint8
	Prio                                                      string
	Rx, Tx                                                    uint64
}

type vsView struct {
	Name, Proto, Addr, Sched, Method string
	InKernel                         bool
	Stats                            counterView
	RS                               []rsView
}

type rsView struct {
	Name, Addr, Class, State, Weight, Since, LastError, Target string
	Active, Inactive                                           int
	Transitions                                                int
	Stats                                                      counterView
}

type counterView struct {
	Have                                      bool
	Conns, InPkts, OutPkts, InBytes, OutBytes string
	CPS, InPPS, OutPPS, InBPS, OutBPS         string
}

func countersView(c *ipvs.Counters) counterView {
	if c == nil {
		return counterView{}
	}
	n := func(v uint64) string { return strconv.FormatUint(v, 10) }
	return counterView{Have: true,
		Conns: n(c.Conns), InPkts: n(c.InPkts), OutPkts: n(c.OutPkts), InBytes: bytesHuman(c.InBytes), OutBytes: bytesHuman(c.OutBytes),
		CPS: n(c.CPS), InPPS: n(c.InPPS), OutPPS: n(c.OutPPS), InBPS: bytesHuman(c.InBPS) + "/s", OutBPS: bytesHuman(c.OutBPS) + "/s"}
}

// rsClass is the colour of a real server row: red when its checks fail,
// amber when it is up but gets no new connections (weight 0, or kept at 0
// by inhibit_on_failure), green when it serves.
func rsClass(rs rsStatus) (class, text string) {
	switch {
	case rs.Check == "down":
		if rs.KernelWeight != nil {
			return "down", "DOWN (inhibited, weight 0)"
		}
		return "down", "DOWN"
	case rs.Weight == 0 || (rs.KernelWeight != nil && *rs.KernelWeight == 0):
		return "drain", "DRAINING (weight 0)"
	case rs.Check == "none":
		return "up", "UP (no check)"
	}
	return "up", "UP"
}

func buildStatsPage(st statusDoc, refresh time.Duration, now time.Time) statsPage {
	host, _ := os.Hostname()
	p := statsPage{Host: host, Mode: st.Mode, Version: st.Version, Now: now.UTC().Format("2006-01-02 15:04:05 MST"),
		Refresh: int(refresh / time.Second), Uptime: ago(now, st.Started), Config: st.Config}
	p.ConfigID = st.Config.SHA256
	if len(p.ConfigID) > 12 {
		p.ConfigID = p.ConfigID[:12]
	}
	if r := st.LastReload; r != nil {
		rv := &reloadView{Ago: ago(now, r.At), Trigger: r.Trigger, OK: r.Applied}
		switch {
		case !r.Applied:
			rv.Text = "refused, running configuration kept: " + r.Error
			p.Problems = append(p.Problems, "Last reload ("+rv.Ago+" ago) was refused: "+r.Error)
		case len(r.Changes) == 0:
			rv.Text = "applied, no change"
		default:
			rv.Text = "applied: " + strings.Join(r.Changes, "; ")
		}
		p.Reload = rv
	}
	for _, v := range st.VRRP {
		master := v.MasterIP
		if master == "" {
			master = "-"
		}
		prio := strconv.Itoa(int(v.EffectivePriority))
		if v.EffectivePriority != v.Priority {
			prio += " (configured " + strconv.Itoa(int(v.Priority)) + ")"
		}
		p.VRRP = append(p.VRRP, vrrpView{Name: v.Name, Interface: v.Interface, State: v.State, Class: strings.ToLower(v.State),
			Master: master, VIPs: strings.Join(v.VIPs, ", "), Since: since(now, v.LastTransition, v.Transitions),
			Drops: drops(v.Drops), VRID: v.VRID, Prio: prio, Rx: v.RxAdverts, Tx: v.TxAdverts})
	}
	for _, vs := range st.VirtualServers {
		vv := vsView{Name: vs.Name, Proto: vs.Protocol, Addr: vs.Addr.String(), Sched: vs.Sched, Method: vs.Method + " (" + forward(vs.Method) + ")",
			InKernel: vs.InKernel, Stats: countersView(vs.Stats)}
		if !vs.InKernel && st.IPVSSync != nil {
			p.Problems = append(p.Problems, fmt.Sprintf("Virtual server %s (%s) is not in the kernel IPVS table", vs.Name, vs.Addr))
		}
		for _, rs := range vs.RealServers {
			class, text := rsClass(rs)
			switch class {
			case "up":
				p.Up++
			case "down":
				p.Down++
			case "drain":
				p.Drain++
			}
			weight := "-"
			if rs.KernelWeight != nil {
				weight = strconv.Itoa(*rs.KernelWeight)
			}
			weight += " / " + strconv.Itoa(rs.Weight)
			sinceCol := "-"
			if rs.Check != "none" {
				sinceCol = ago(now, rs.Since)
			}
			vv.RS = append(vv.RS, rsView{Name: rs.Name, Addr: rs.Addr.String(), Class: class, State: text, Weight: weight,
				Since: sinceCol, LastError: rs.LastError, Target: rs.Target, Active: rs.ActiveConns, Inactive: rs.InactConns,
				Transitions: rs.Transitions, Stats: countersView(rs.Stats)})
		}
		p.VS = append(p.VS, vv)
	}
	if s := st.IPVSSync; s != nil {
		p.IPVS = fmt.Sprintf("IPVS: %d services managed, last sync %s ago", s.Managed, ago(now, s.Synced))
		if s.Synced.IsZero() {
			p.IPVS = fmt.Sprintf("IPVS: %d services managed, not synced yet", s.Managed)
		}
		if s.Error != "" {
			p.Problems = append(p.Problems, "IPVS sync failed: "+s.Error)
		}
	}
	if st.StatsError != "" {
		p.Problems = append(p.Problems, "Kernel IPVS counters unavailable: "+st.StatsError)
	}
	return p
}

func (e *httpEndpoint) serveStats(w http.ResponseWriter, r *http.Request) {
	s := e.settings.Load()
	page := buildStatsPage(e.publicStatus(), s.cfg.Refresh, time.Now())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := statsTmpl.Execute(w, page); err != nil {
		e.log.Debug("http: write stats page", "err", err)
	}
}
