package main

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/rules"
	"github.com/lvsd/lvsd/vrrp"
)

// statusDoc is the JSON document served on the control socket (GET
// /status). It is built from typed runtime state only, never from the
// config structs wholesale, so secrets (auth_pass, mysql_check passwords)
// cannot reach it by accident.
type statusDoc struct {
	Mode       string        `json:"mode"`
	Version    string        `json:"version"`
	Started    time.Time     `json:"started"`
	Config     configStatus  `json:"config"`
	LastReload *reloadResult `json:"last_reload,omitempty"`

	VRRP           []vrrpStatus `json:"vrrp,omitempty"`
	VirtualServers []vsStatus   `json:"virtual_servers,omitempty"`
	IPVSSync       *ipvsSync    `json:"ipvs_sync,omitempty"`
	// SyncDaemon is the lvs_sync_daemon: the role wanted, the kernel's.
	SyncDaemon *syncDaemonStatus `json:"lvs_sync_daemon,omitempty"`
	// Drains are real servers being drained or drained by hand.
	Drains []drainStatus `json:"drains,omitempty"`
	// StatsError is why the kernel counters could not be read ("" = read).
	StatsError string             `json:"stats_error,omitempty"`
	Rules      []rules.RuleStatus `json:"rules,omitempty"`
}

// configStatus is the configuration the daemon runs: the file, the sha256
// of the bytes it parsed (compare with `sha256sum FILE` to see whether the
// file changed since) and when it was loaded.
type configStatus struct {
	File   string    `json:"file"`
	SHA256 string    `json:"sha256"`
	Loaded time.Time `json:"loaded"`
}

// vrrpStatus is an instance's status. EffectivePriority is the priority
// sent in adverts: Priority adjusted by tracking (it shadows the embedded
// field of the same name, with the same value).
type vrrpStatus struct {
	vrrp.Status
	EffectivePriority uint8 `json:"effective_priority"`
}

// vsStatus is one configured virtual server merged with what the kernel
// shows for it.
type vsStatus struct {
	Name     string         `json:"name"`
	Protocol string         `json:"protocol"`
	Addr     netip.AddrPort `json:"addr"`
	// FWMark is set for a firewall-mark service (Addr is then the
	// unspecified address of its family, port 0).
	FWMark uint32 `json:"fwmark,omitempty"`
	Sched  string `json:"sched"`
	Method string `json:"method"`
	// InKernel says whether the service was in the kernel table when last
	// read.
	InKernel    bool           `json:"in_kernel"`
	Stats       *ipvs.Counters `json:"stats,omitempty"`
	RealServers []rsStatus     `json:"real_servers"`
}

// rsStatus is one configured real server: its configured weight, the
// weight in the kernel (absent when health checks took it out), its check
// state and counters.
type rsStatus struct {
	Name         string         `json:"name"`
	Addr         netip.AddrPort `json:"addr"`
	Weight       int            `json:"weight"`
	KernelWeight *int           `json:"kernel_weight,omitempty"`
	// Check is "up", "down", or "none" (no checker: always up).
	Check       string    `json:"check"`
	Target      string    `json:"check_target,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	LastCheck   time.Time `json:"last_check,omitzero"`
	Transitions int       `json:"transitions"`
	Since       time.Time `json:"since,omitzero"`
	// DynamicWeight is the weight misc_dynamic set (absent: the
	// configured one); History the last transitions, oldest first.
	DynamicWeight *int                     `json:"dynamic_weight,omitempty"`
	History       []healthcheck.Transition `json:"history,omitempty"`
	ActiveConns   int                      `json:"active_conns"`
	InactConns    int                      `json:"inact_conns"`
	Stats         *ipvs.Counters           `json:"stats,omitempty"`
}

// ipvsSync is how the last IPVS reconcile went.
type ipvsSync struct {
	Managed int       `json:"managed"`
	Synced  time.Time `json:"synced,omitzero"`
	Error   string    `json:"error,omitempty"`
}

// buildVirtualServers merges the configured virtual servers with the
// health verdicts, the reconciler's last view of the kernel table and, when
// they could be read, the kernel counters (stats may be nil).
func buildVirtualServers(vss []conf.VirtualServer, probes []healthcheck.ProbeStatus, table []ipvs.Service, stats []ipvs.ServiceStats) []vsStatus {
	type rsKey struct{ vs, rs string }
	checks := map[rsKey]healthcheck.ProbeStatus{}
	for _, p := range probes {
		k := rsKey{p.VS, p.RS}
		if prev, ok := checks[k]; ok {
			// Several checkers on one server: it is up only if all are,
			// and the down one explains why.
			if prev.Up && !p.Up {
				prev.Up, prev.LastError, prev.Target = false, p.LastError, p.Target
			}
			prev.Transitions += p.Transitions
			if p.LastCheck.After(prev.LastCheck) {
				prev.LastCheck = p.LastCheck
			}
			if p.Since.After(prev.Since) {
				prev.Since = p.Since
			}
			p = prev
		}
		checks[k] = p
	}
	kernel := map[ipvs.Key]ipvs.Service{}
	for _, s := range table {
		kernel[s.Key] = s
	}
	counters := map[ipvs.Key]ipvs.ServiceStats{}
	for _, s := range stats {
		counters[s.Key] = s
	}

	out := make([]vsStatus, 0, len(vss))
	for _, vs := range vss {
		proto := vs.Protocol
		if proto == "" {
			proto = ipvs.TCP
		}
		key := ipvs.KeyOf(vs)
		if vs.FWMark == 0 {
			key.Protocol = proto
		}
		ks, inKernel := kernel[key]
		cs, haveStats := counters[key]
		if haveStats {
			// The counters dump is fresher than the last sync.
			inKernel = true
		}
		st := vsStatus{Name: vs.Name, Protocol: proto, Addr: vs.Address, FWMark: vs.FWMark, Sched: vs.Sched, Method: vs.Method, InKernel: inKernel}
		if haveStats {
			c := cs.Counters
			st.Stats = &c
		}
		for _, rs := range vs.RealServers {
			kaddr := vs.DestAddrOf(&rs)
			r := rsStatus{Name: rs.Name, Addr: rs.Address, Weight: rs.Weight, Check: "none"}
			if p, ok := checks[rsKey{healthcheck.VSKey(vs), healthcheck.RSKey(rs)}]; ok {
				r.Check = "down"
				if p.Up {
					r.Check = "up"
				}
				r.Target, r.LastError, r.LastCheck, r.Transitions, r.Since = p.Target, p.LastError, p.LastCheck, p.Transitions, p.Since
				r.DynamicWeight, r.History = p.Weight, p.History
			}
			if haveStats {
				for _, d := range cs.Dests {
					if d.Addr == kaddr {
						w, c := d.Weight, d.Counters
						r.KernelWeight, r.Stats = &w, &c
						r.ActiveConns, r.InactConns = d.ActiveConns, d.InactConns
					}
				}
			} else {
				for _, d := range ks.Dests {
					if d.Addr == kaddr {
						w := d.Weight
						r.KernelWeight = &w
					}
				}
			}
			st.RealServers = append(st.RealServers, r)
		}
		out = append(out, st)
	}
	return out
}

// printStatus writes the human view of `lvsd status`: a header, the VRRP
// instances, then the IPVS table the way `ipvsadm -Ln` lays it out, with
// counters, each real server's check state and, when it is down, why.
// now is passed in so that "ago" columns are testable.
func printStatus(out io.Writer, st *statusDoc, now time.Time) {
	var w bytes.Buffer
	defer func() {
		// tabwriter pads the last cells; trim so lines end cleanly.
		for line := range strings.Lines(w.String()) {
			fmt.Fprintln(out, strings.TrimRight(line, " \n"))
		}
	}()
	fmt.Fprintf(&w, "lvsd %s %s, up %s (since %s)\n", st.Mode, st.Version, ago(now, st.Started), st.Started.UTC().Format(time.RFC3339))
	hash := st.Config.SHA256
	if len(hash) > 12 {
		hash = hash[:12]
	}
	fmt.Fprintf(&w, "config %s sha256:%s loaded %s ago\n", st.Config.File, hash, ago(now, st.Config.Loaded))
	if r := st.LastReload; r != nil {
		what := "applied"
		if !r.Applied {
			what = "REFUSED: " + r.Error
		} else if len(r.Changes) > 0 {
			what += " (" + strings.Join(r.Changes, "; ") + ")"
		} else {
			what += " (no change)"
		}
		fmt.Fprintf(&w, "last reload %s ago by %s: %s\n", ago(now, r.At), r.Trigger, what)
	}

	if len(st.VRRP) > 0 {
		fmt.Fprintln(&w)
		tw := tabwriter.NewWriter(&w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "VRRP\tVRID\tIFACE\tSTATE\tPRIO\tMASTER\tVIPS\tSINCE\tADVERTS RX/TX\tDROPS")
		for _, v := range st.VRRP {
			master := v.MasterIP
			if master == "" {
				master = "-"
			}
			prio := strconv.Itoa(int(v.EffectivePriority))
			if v.EffectivePriority != v.Priority {
				prio += "/" + strconv.Itoa(int(v.Priority))
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\n", v.Name, v.VRID, v.Interface, v.State, prio, master,
				strings.Join(v.VIPs, ","), since(now, v.LastTransition, v.Transitions), v.RxAdverts, v.TxAdverts, drops(v.Drops))
		}
		tw.Flush()
		for _, v := range st.VRRP {
			if line := vrrpTracking(v.Status, now); line != "" {
				fmt.Fprintf(&w, "  %s: %s\n", v.Name, line)
			}
		}
	}

	if len(st.VirtualServers) > 0 {
		fmt.Fprintln(&w)
		tw := tabwriter.NewWriter(&w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "Prot LocalAddress:Port Scheduler\tForward\tWeight\tActConn\tInActConn\tConns\tCPS\tInBytes\tOutBytes\tCheck\tSince\t")
		fmt.Fprintln(tw, "  -> RemoteAddress:Port"+strings.Repeat("\t", 11))
		var notes []string
		for _, vs := range st.VirtualServers {
			name := ""
			if vs.Name != "" {
				name = " (" + vs.Name + ")"
			}
			if !vs.InKernel {
				name += " NOT IN KERNEL"
			}
			proto, addr := vs.Protocol, vs.Addr.String()
			if vs.FWMark != 0 {
				// As ipvsadm -Ln names it.
				proto, addr = "FWM", ipvs.FWMarkKey(vs.FWMark, vs.Addr.Addr().Is6()).String()[len("FWM "):]
			}
			fmt.Fprintf(tw, "%s  %s %s%s\t\t\t\t\t%s\t\t\t\n", proto, addr, vs.Sched, name, counterCols(vs.Stats))
			for _, rs := range vs.RealServers {
				weight := "-"
				if rs.KernelWeight != nil {
					weight = strconv.Itoa(*rs.KernelWeight)
					if *rs.KernelWeight != rs.Weight {
						weight += "/" + strconv.Itoa(rs.Weight)
					}
				}
				check := rs.Check
				if check == "down" {
					check = "DOWN"
					if rs.LastError != "" {
						notes = append(notes, fmt.Sprintf("[%d] %s %s -> %s (%s): %s", len(notes)+1, vs.Protocol, vs.Addr, rs.Addr, rs.Name, rs.LastError))
						check += fmt.Sprintf(" [%d]", len(notes))
					}
				}
				sinceCol := "-"
				if rs.Check != "none" {
					sinceCol = ago(now, rs.Since)
				}
				fmt.Fprintf(tw, "  -> %s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t\n", rs.Addr, forward(vs.Method), weight, rs.ActiveConns, rs.InactConns,
					counterCols(rs.Stats), check, sinceCol)
			}
		}
		tw.Flush()
		for _, n := range notes {
			fmt.Fprintln(&w, n)
		}
	}
	if changes := historyLen(st); changes > 0 {
		noun := "transitions"
		if changes == 1 {
			noun = "transition"
		}
		fmt.Fprintf(&w, "health history: %d %s kept (lvsd status --history shows them)\n", changes, noun)
	}
	if s := st.IPVSSync; s != nil {
		line := fmt.Sprintf("ipvs: %d services managed, last sync %s ago", s.Managed, ago(now, s.Synced))
		if s.Synced.IsZero() {
			line = fmt.Sprintf("ipvs: %d services managed, not synced yet", s.Managed)
		}
		if s.Error != "" {
			line += ", ERROR: " + s.Error
		}
		fmt.Fprintln(&w, line)
	}
	if st.StatsError != "" {
		fmt.Fprintf(&w, "ipvs counters unavailable: %s\n", st.StatsError)
	}
	if s := st.SyncDaemon; s != nil {
		line := fmt.Sprintf("lvs_sync_daemon: want %s; kernel: %s", s.Want, strings.Join(s.Kernel, "; "))
		if len(s.Kernel) == 0 {
			line = fmt.Sprintf("lvs_sync_daemon: want %s; kernel: none running", s.Want)
		}
		if s.Error != "" {
			line += ", ERROR: " + s.Error
		}
		fmt.Fprintln(&w, line)
	}
	printDrains(&w, st.Drains, now)

	if len(st.Rules) > 0 {
		fmt.Fprintln(&w)
		tw := tabwriter.NewWriter(&w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "REDIRECT RULE\tPRESENT")
		for _, r := range st.Rules {
			fmt.Fprintf(tw, "%s\t%v\n", r.VIP, r.Present)
		}
		tw.Flush()
	}
}

// counterCols renders Conns, CPS, InBytes, OutBytes (tab separated).
func counterCols(c *ipvs.Counters) string {
	if c == nil {
		return "-\t-\t-\t-"
	}
	return fmt.Sprintf("%d\t%d\t%s\t%s", c.Conns, c.CPS, bytesHuman(c.InBytes), bytesHuman(c.OutBytes))
}

// forward names a method the way ipvsadm's Forward column does.
func forward(method string) string {
	switch method {
	case ipvs.DR:
		return "Route"
	case ipvs.NAT:
		return "Masq"
	case ipvs.TUN:
		return "Tunnel"
	}
	return method
}

func bytesHuman(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%c", float64(n)/float64(div), "KMGTPE"[exp])
}

// ago renders the time since t compactly ("3s", "2m5s", "4h0m", "2d3h");
// "-" for a zero time.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return fmt.Sprintf("%dm%ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd%dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

func since(now, t time.Time, transitions int) string {
	return fmt.Sprintf("%s (%d changes)", ago(now, t), transitions)
}

// drops renders the drop counters as "reason=n,..." in a fixed order.
func drops(m map[string]uint64) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, ",")
}

// vrrpTracking is the human line of an instance's tracked objects, sync
// group and last notify run ("" when it has none of them).
func vrrpTracking(v vrrp.Status, now time.Time) string {
	var parts []string
	if len(v.Tracked) > 0 {
		var objs []string
		for _, o := range v.Tracked {
			st := "up"
			if !o.Up {
				st = "DOWN"
			}
			w := ""
			if o.Weight != 0 {
				w = fmt.Sprintf(" weight %+d", o.Weight)
			}
			if o.Kind == vrrp.KindFile {
				// A file counts by value: show it, its path and reverse.
				rev := ""
				if o.Reverse {
					rev = " reverse"
				}
				w = fmt.Sprintf(" %s value %d weight %+d%s", o.Path, o.Value, o.Weight, rev)
			}
			if o.Kind == vrrp.KindProcess {
				// The number running shows how far from the quorum it is.
				w = fmt.Sprintf(" (%d running)%s", o.Value, w)
				if o.Reverse {
					w += " reverse"
				}
			}
			objs = append(objs, fmt.Sprintf("%s %s %s%s", o.Kind, o.Name, st, w))
		}
		parts = append(parts, "tracks "+strings.Join(objs, ", "))
	}
	if v.SyncGroup != "" {
		parts = append(parts, "sync group "+v.SyncGroup)
	}
	if n := v.LastNotify; n != nil {
		res := "ok"
		if n.Err != "" {
			res = n.Err
		}
		parts = append(parts, fmt.Sprintf("last notify %q %s ago: %s", strings.Join(n.Argv, " "), ago(now, n.At), res))
	}
	return strings.Join(parts, "; ")
}

// historyLen is how many health transitions st keeps, all real servers
// together.
func historyLen(st *statusDoc) int {
	n := 0
	for _, vs := range st.VirtualServers {
		for _, rs := range vs.RealServers {
			n += len(rs.History)
		}
	}
	return n
}

// printHistory writes the health transitions of every real server that has
// some (`lvsd status --history`), oldest first, each with its time, how
// long ago, the verdict and, for a fall, the error that caused it. The
// daemon keeps the last 16 per real server; older ones are counted.
func printHistory(out io.Writer, st *statusDoc, now time.Time) {
	var w bytes.Buffer
	defer func() {
		for line := range strings.Lines(w.String()) {
			fmt.Fprintln(out, strings.TrimRight(line, " \n"))
		}
	}()
	fmt.Fprintln(&w)
	if historyLen(st) == 0 {
		fmt.Fprintln(&w, "Health history: no transitions yet")
		return
	}
	fmt.Fprintln(&w, "Health history (oldest first)")
	for _, vs := range st.VirtualServers {
		for _, rs := range vs.RealServers {
			if len(rs.History) == 0 {
				continue
			}
			head := fmt.Sprintf("%s %s", vs.Protocol, vs.Addr)
			if vs.FWMark != 0 {
				head = ipvs.FWMarkKey(vs.FWMark, vs.Addr.Addr().Is6()).String()
			}
			if vs.Name != "" {
				head += " (" + vs.Name + ")"
			}
			head += " -> " + rs.Addr.String()
			if rs.Name != "" {
				head += " (" + rs.Name + ")"
			}
			count := fmt.Sprintf("%d changes", rs.Transitions)
			if rs.Transitions == 1 {
				count = "1 change"
			}
			if older := rs.Transitions - countVerdicts(rs.History); older > 0 {
				count += fmt.Sprintf(", %d older not kept", older)
			}
			fmt.Fprintf(&w, "%s, now %s, %s\n", head, rs.Check, count)
			tw := tabwriter.NewWriter(&w, 0, 0, 2, ' ', 0)
			for _, tr := range rs.History {
				verdict, why := "up", ""
				switch {
				case tr.WeightOnly:
					verdict = "weight"
					why = "misc_dynamic weight changed"
				case !tr.Up:
					verdict, why = "DOWN", tr.Err
				}
				fmt.Fprintf(tw, "  %s\t%s ago\t%s\t%s\n", tr.At.UTC().Format("2006-01-02 15:04:05.000Z"), ago(now, tr.At), verdict, why)
			}
			tw.Flush()
		}
	}
}

// countVerdicts is how many of h are verdict changes (weight-only changes
// are not counted in a server's transitions).
func countVerdicts(h []healthcheck.Transition) int {
	n := 0
	for _, tr := range h {
		if !tr.WeightOnly {
			n++
		}
	}
	return n
}
