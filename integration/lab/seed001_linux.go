package lab

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/lvsd/lvsd/examples"
)

// Seed001 is the scenario of seed 001: two directors share VIP
// 198.51.100.30 by VRRP (PASS auth, nopreempt), both program IPVS rr/DR to
// two MySQL hosts, the hosts run `lvsd agent` for the REDIRECT rule. It runs
// on a kernel with IPVS (the VM tier) and narrates to Out.
type Seed001 struct {
	Lvsd string    // path of the lvsd binary
	Dir  string    // scratch directory
	Out  io.Writer // narration (the demo prints it; tests log it)
	// Prefix for namespace names (keep it short and unique per run).
	Prefix string
}

// Seed001Report holds what the run measured.
type Seed001Report struct {
	Answers       []string      // who answered, in order, through the VIP
	FailoverVIP   time.Duration // link cut -> VIP on lvs2
	FailoverConn  time.Duration // link cut -> first connection through lvs2
	RemovalTime   time.Duration // listener stopped -> destination gone from IPVS
	ReaddTime     time.Duration // listener back -> destination back in IPVS
	DriftRepair   time.Duration // destination deleted by hand -> back
	IPVSTableLVS1 string
	IPVSTableLVS2 string
}

const (
	seedVIP     = "198.51.100.30"
	seedService = seedVIP + ":3306"
)

// Seed001Director is the repository's examples/seed-001-director.hcl (lvs1
// runs it verbatim) with the state and priority of another node.
func Seed001Director(state string, priority int) string {
	out := strings.Replace(examples.SeedDirector, `state             = "MASTER"`, fmt.Sprintf("state             = %q", state), 1)
	return strings.Replace(out, "priority          = 101", fmt.Sprintf("priority          = %d", priority), 1)
}

// Seed001Agent is examples/seed-001-agent.hcl.
var Seed001Agent = examples.SeedAgent

var (
	reService = regexp.MustCompile(`TCP\s+198\.51\.100\.30:3306\s+rr`)
	reDest    = func(ip string) *regexp.Regexp {
		return regexp.MustCompile(`->\s+` + regexp.QuoteMeta(ip) + `:3306\s+Route\s+1\s`)
	}
)

func (s *Seed001) say(format string, args ...any) {
	if s.Out != nil {
		fmt.Fprintf(s.Out, format+"\n", args...)
	}
}

// Run executes the whole scenario and returns the first failed expectation.
func (s *Seed001) Run() (rep Seed001Report, err error) {
	l, err := New(s.Prefix, s.Dir, nil)
	if err != nil {
		return rep, err
	}
	defer l.Close()

	s.say("== Topology: one LAN 198.51.100.0/24 (a bridge), five hosts in network namespaces")
	hosts := map[string]*Host{}
	for _, h := range []struct{ name, cidr, role string }{
		{"client", "198.51.100.2/24", "the application server connecting to MySQL"},
		{"lvs1", "198.51.100.20/24", "director, VRRP priority 101 (state MASTER, nopreempt)"},
		{"lvs2", "198.51.100.21/24", "director, VRRP priority 100 (state BACKUP, nopreempt)"},
		{"db1", "198.51.100.10/24", "MySQL host 1 (real server)"},
		{"db2", "198.51.100.11/24", "MySQL host 2 (real server)"},
	} {
		hh, err := l.AddHost(h.name, h.cidr)
		if err != nil {
			return rep, err
		}
		hosts[h.name] = hh
		s.say("   %-6s %-16s %s", h.name, h.cidr, h.role)
	}
	s.say("   VIP %s is owned by whichever director is VRRP master.", seedVIP)
	if _, err := run("modprobe", "ip_vs"); err != nil {
		return rep, err
	}

	s.say("\n== Real servers: a service on :3306 answers its name; `lvsd agent` keeps the REDIRECT rule for the VIP")
	agentFile, err := l.WriteFile("agent.hcl", Seed001Agent)
	if err != nil {
		return rep, err
	}
	listeners := map[string]*Listener{}
	for _, name := range []string{"db1", "db2"} {
		h := hosts[name]
		ln, err := h.Serve("0.0.0.0:3306", name)
		if err != nil {
			return rep, err
		}
		listeners[name] = ln
		if _, err := h.Start("agent-"+name, s.Lvsd, "agent", "-f", agentFile,
			"--control", l.Dir+"/"+name+".sock", "--pid-file", l.Dir+"/"+name+".pid"); err != nil {
			return rep, err
		}
	}
	for _, name := range []string{"db1", "db2"} {
		h := hosts[name]
		if _, ok := WaitFor(10*time.Second, func() bool {
			out, _ := h.Run("iptables", "-t", "nat", "-S", "PREROUTING")
			return strings.Contains(out, seedVIP) && strings.Contains(out, "REDIRECT")
		}); !ok {
			out, _ := h.Run("iptables", "-t", "nat", "-S", "PREROUTING")
			return rep, fmt.Errorf("%s: REDIRECT rule for %s not installed by lvsd agent; nat PREROUTING:\n%s", name, seedVIP, out)
		}
		out, _ := h.Run("iptables", "-t", "nat", "-S", "PREROUTING")
		s.say("   %s: %s", name, strings.TrimSpace(lastLine(out)))
	}

	s.say("\n== Directors: `lvsd director -f director.hcl` on lvs1, then on lvs2")
	dirs := map[string]*Proc{}
	for _, d := range []struct {
		name, state string
		prio        int
	}{{"lvs1", "MASTER", 101}, {"lvs2", "BACKUP", 100}} {
		f, err := l.WriteFile(d.name+".hcl", Seed001Director(d.state, d.prio))
		if err != nil {
			return rep, err
		}
		p, err := hosts[d.name].Start(d.name, s.Lvsd, "director", "-f", f,
			"--control", l.Dir+"/"+d.name+".sock", "--pid-file", l.Dir+"/"+d.name+".pid", "--log-level", "debug")
		if err != nil {
			return rep, err
		}
		dirs[d.name] = p
		if d.name == "lvs1" {
			s.say("   lvs1 has nopreempt: it starts as BACKUP and takes the VIP when it hears no master for 3 x 1 s + skew.")
			if _, ok := WaitFor(8*time.Second, func() bool { return hosts["lvs1"].HasAddr(seedVIP) }); !ok {
				return rep, fmt.Errorf("lvs1 did not become master:\n%s", p.Output())
			}
			s.say("   lvs1 is MASTER and holds %s.", seedVIP)
		}
	}
	for _, name := range []string{"lvs1", "lvs2"} {
		h := hosts[name]
		var table string
		if _, ok := WaitFor(10*time.Second, func() bool {
			table, _ = h.Run("ipvsadm", "-Ln")
			return reService.MatchString(table) && reDest("198.51.100.10").MatchString(table) && reDest("198.51.100.11").MatchString(table)
		}); !ok {
			return rep, fmt.Errorf("%s: ipvsadm -Ln does not show the rr/DR service with both real servers:\n%s\nlvsd log:\n%s", name, table, dirs[name].Output())
		}
		if name == "lvs1" {
			rep.IPVSTableLVS1 = table
		} else {
			rep.IPVSTableLVS2 = table
		}
		s.say("\n   %s$ ipvsadm -Ln\n%s", name, indent(table))
	}
	time.Sleep(1500 * time.Millisecond) // lvs2 hears lvs1's adverts and stays backup
	if hosts["lvs2"].HasAddr(seedVIP) {
		return rep, fmt.Errorf("lvs2 holds the VIP although lvs1 is master:\n%s", dirs["lvs2"].Output())
	}
	s.say("   lvs2 hears lvs1's adverts and stays BACKUP (hot standby: its IPVS table is ready).")

	s.say("\n== Round robin through the VIP: the client connects to %s six times", seedService)
	answers, err := s.connect(hosts["client"], 6)
	rep.Answers = answers
	if err != nil {
		return rep, err
	}
	s.say("   answers: %s", strings.Join(answers, " "))
	if !alternates(answers) {
		return rep, fmt.Errorf("round robin expected db1/db2 alternating, got %v", answers)
	}
	if st, err := hosts["lvs1"].Run(s.Lvsd, "status", "--control", l.Dir+"/lvs1.sock"); err == nil {
		s.say("\n   lvs1$ lvsd status\n%s", indent(st))
	} else {
		return rep, fmt.Errorf("lvsd status on lvs1: %w", err)
	}

	s.say("\n== Drift: someone deletes db2 from lvs2's table by hand (ipvsadm -d)")
	if _, err := hosts["lvs2"].Run("ipvsadm", "-d", "-t", seedService, "-r", "198.51.100.11:3306"); err != nil {
		return rep, err
	}
	d, ok := WaitFor(10*time.Second, func() bool {
		t, _ := hosts["lvs2"].Run("ipvsadm", "-Ln")
		return reDest("198.51.100.11").MatchString(t)
	})
	if !ok {
		return rep, fmt.Errorf("lvs2 did not repair the destination deleted by hand:\n%s", dirs["lvs2"].Output())
	}
	rep.DriftRepair = d
	s.say("   lvsd re-read the kernel table and put db2 back %.1f s later (it reconciles against the kernel, not against its last config).", d.Seconds())

	s.say("\n== Failover: lvs1's cable is cut")
	t0 := time.Now()
	if err := hosts["lvs1"].LinkDown(); err != nil {
		return rep, err
	}
	if _, ok := WaitFor(10*time.Second, func() bool { return hosts["lvs2"].HasAddr(seedVIP) }); !ok {
		return rep, fmt.Errorf("lvs2 did not take the VIP after lvs1's link was cut:\n%s", dirs["lvs2"].Output())
	}
	rep.FailoverVIP = time.Since(t0)
	if _, ok := WaitFor(10*time.Second, func() bool {
		_, err := hosts["client"].Dial(seedService, 300*time.Millisecond)
		return err == nil
	}); !ok {
		return rep, fmt.Errorf("no connection through lvs2 after failover")
	}
	rep.FailoverConn = time.Since(t0)
	s.say("   lvs2 owns the VIP %.2f s after the cut; first connection through it after %.2f s", rep.FailoverVIP.Seconds(), rep.FailoverConn.Seconds())
	s.say("   (protocol bound: 3 x advert + (256-100)/256 s = 3.61 s after lvs1's last advert)")

	s.say("\n== Health checks: db1's MySQL listener stops")
	listeners["db1"].Close()
	t0 = time.Now()
	lvs2 := hosts["lvs2"]
	if _, ok := WaitFor(25*time.Second, func() bool {
		t, _ := lvs2.Run("ipvsadm", "-Ln")
		return reService.MatchString(t) && !strings.Contains(t, "198.51.100.10:3306")
	}); !ok {
		return rep, fmt.Errorf("db1 was not removed from IPVS on lvs2:\n%s", dirs["lvs2"].Output())
	}
	rep.RemovalTime = time.Since(t0)
	s.say("   db1 left IPVS %.1f s later (retry 3 x delay_before_retry 3 s after the first failed check)", rep.RemovalTime.Seconds())
	answers, err = s.connect(hosts["client"], 4)
	if err != nil {
		return rep, err
	}
	s.say("   answers now: %s", strings.Join(answers, " "))
	for _, a := range answers {
		if a != "db2" {
			return rep, fmt.Errorf("with db1 down every answer must be db2, got %v", answers)
		}
	}

	s.say("\n== db1's listener comes back")
	ln, err := hosts["db1"].Serve("0.0.0.0:3306", "db1")
	if err != nil {
		return rep, err
	}
	listeners["db1"] = ln
	t0 = time.Now()
	if _, ok := WaitFor(15*time.Second, func() bool {
		t, _ := lvs2.Run("ipvsadm", "-Ln")
		return reDest("198.51.100.10").MatchString(t)
	}); !ok {
		return rep, fmt.Errorf("db1 did not come back into IPVS on lvs2:\n%s", dirs["lvs2"].Output())
	}
	rep.ReaddTime = time.Since(t0)
	s.say("   db1 is back in IPVS %.1f s later (one successful check)", rep.ReaddTime.Seconds())
	answers, err = s.connect(hosts["client"], 4)
	if err != nil {
		return rep, err
	}
	s.say("   answers: %s", strings.Join(answers, " "))
	if !alternates(answers) {
		return rep, fmt.Errorf("after db1's return expected both servers, got %v", answers)
	}

	s.say("\n== Stop: SIGTERM to lvs2 releases the VIP and removes its IPVS service")
	if err := dirs["lvs2"].Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		return rep, fmt.Errorf("lvs2 stop: %v\n%s", err, dirs["lvs2"].Output())
	}
	if lvs2.HasAddr(seedVIP) {
		return rep, fmt.Errorf("lvs2 still holds the VIP after SIGTERM")
	}
	if t, _ := lvs2.Run("ipvsadm", "-Ln"); strings.Contains(t, seedService) {
		return rep, fmt.Errorf("lvs2 left its IPVS service after SIGTERM:\n%s", t)
	}
	for _, name := range []string{"db1", "db2"} {
		listeners[name].Close()
	}
	s.say("   done.")
	return rep, nil
}

// connect dials the VIP n times from the client and returns who answered.
func (s *Seed001) connect(client *Host, n int) ([]string, error) {
	var answers []string
	for i := 0; i < n; i++ {
		a, err := client.Dial(seedService, 2*time.Second)
		if err != nil {
			return answers, fmt.Errorf("connect %d to %s: %w", i+1, seedService, err)
		}
		answers = append(answers, a)
	}
	return answers, nil
}

// alternates reports whether both db1 and db2 answered and no server
// answered twice in a row (round robin over two servers).
func alternates(a []string) bool {
	seen := map[string]bool{}
	for i, x := range a {
		seen[x] = true
		if i > 0 && a[i-1] == x {
			return false
		}
	}
	return seen["db1"] && seen["db2"] && len(seen) == 2
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = "      " + lines[i]
	}
	return strings.Join(lines, "\n")
}
