package main

import (
	"fmt"
	"io"
	"time"

	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/rules"
	"github.com/lvsd/lvsd/vrrp"
)

// statusDoc is the JSON document served on the control socket.
type statusDoc struct {
	Mode    string                    `json:"mode"`
	File    string                    `json:"file"`
	Version string                    `json:"version"`
	Started time.Time                 `json:"started"`
	VRRP    []vrrp.Status             `json:"vrrp,omitempty"`
	IPVS    []ipvs.Service            `json:"ipvs,omitempty"`
	Checks  []healthcheck.ProbeStatus `json:"checks,omitempty"`
	Rules   []rules.RuleStatus        `json:"rules,omitempty"`
}

func printStatus(w io.Writer, st *statusDoc) {
	fmt.Fprintf(w, "lvsd %s %s (config %s, up since %s)\n", st.Mode, st.Version, st.File, st.Started.Format(time.RFC3339))
	for _, v := range st.VRRP {
		fmt.Fprintf(w, "vrrp %s vrid %d on %s: %s priority %d vips %v\n", v.Name, v.VRID, v.Interface, v.State, v.Priority, v.VIPs)
	}
	for _, s := range st.IPVS {
		fmt.Fprintf(w, "ipvs %s %s %s\n", s.Protocol, s.Addr, s.Sched)
		for _, d := range s.Dests {
			fmt.Fprintf(w, "  -> %s %s weight %d\n", d.Addr, d.Method, d.Weight)
		}
	}
	for _, c := range st.Checks {
		state := "up"
		if !c.Up {
			state = "DOWN"
		}
		fmt.Fprintf(w, "check %s/%s %s: %s %s\n", c.VS, c.RS, c.Target, state, c.LastError)
	}
	for _, r := range st.Rules {
		fmt.Fprintf(w, "rule REDIRECT %s present=%v\n", r.VIP, r.Present)
	}
}
