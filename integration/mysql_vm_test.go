//go:build vm

package integration

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

const mysqlDirector = `virtual_server "db" {
  address    = "198.51.100.40:3306"
  lvs_sched  = "wlc"
  lvs_method = "NAT"
  delay_loop = "1s"

  real_server "db1" {
    address = "198.51.100.10:3306"
    mysql_check {
      user     = "monitor"
      password = "monitor-pw"
      retry    = 0
      replication {}
    }
  }
  real_server "db2" {
    address = "198.51.100.11:3306"
    mysql_check {
      user     = "monitor"
      password = "monitor-pw"
      retry    = 0
      replication {}
    }
  }
}
`

// TestMySQLReplicationIPVS: a director checks two MariaDB servers in
// master-master replication, each in its own namespace; STOP SLAVE on db1
// takes it out of IPVS, START SLAVE brings it back.
func TestMySQLReplicationIPVS(t *testing.T) {
	l := newLab(t, "mcm")
	lvs := addHost(t, l, "lvs", "198.51.100.20/24")
	db1h := addHost(t, l, "db1", "198.51.100.10/24")
	db2h := addHost(t, l, "db2", "198.51.100.11/24")
	if _, err := lvs.Run("modprobe", "ip_vs"); err != nil {
		t.Fatal(err)
	}
	host := func(h *lab.Host) dbHost {
		return dbHost{ip: h.IP(), prefix: []string{"ip", "netns", "exec", h.NS}, clients: "198.51.100.%", port: 3306}
	}
	dbs := startMariaDBPairOn(t, [2]dbHost{host(db1h), host(db2h)})
	// Both replicas running before the director looks.
	for _, m := range dbs {
		if _, ok := lab.WaitFor(20*time.Second, func() bool {
			s := m.slaveStatus()
			return strings.Contains(s, `Slave_IO_Running="Yes"`) && strings.Contains(s, `Slave_SQL_Running="Yes"`)
		}); !ok {
			t.Fatalf("%s replication not running: %s", m.name, m.slaveStatus())
		}
	}

	file, err := l.WriteFile("lvs.hcl", mysqlDirector)
	if err != nil {
		t.Fatal(err)
	}
	p, err := lvs.Start("lvsd", lvsdBin, "director", "-f", file, "--control", l.Dir+"/lvs.sock",
		"--pid-file", l.Dir+"/lvs.pid", "--resync-interval", "1s")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Stop(syscall.SIGTERM, 10*time.Second)
		if t.Failed() {
			t.Logf("lvsd log:\n%s", p.Output())
		}
	})
	table := func() string {
		out, err := lvs.Run("ipvsadm", "-Ln")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	rs := func(ip string) *regexp.Regexp {
		return regexp.MustCompile(`->\s+` + regexp.QuoteMeta(ip) + `:3306\s+Masq\s`)
	}
	waitTable := func(what string, limit time.Duration, cond func(string) bool) time.Duration {
		t.Helper()
		var last string
		took, ok := lab.WaitFor(limit, func() bool { last = table(); return cond(last) })
		if !ok {
			t.Fatalf("%s after %v; ipvsadm -Ln:\n%s", what, limit, last)
		}
		return took
	}
	both := func(s string) bool { return rs("198.51.100.10").MatchString(s) && rs("198.51.100.11").MatchString(s) }
	waitTable("both real servers not in IPVS", 10*time.Second, both)
	// Let a few checks pass: they stay.
	time.Sleep(2500 * time.Millisecond)
	if s := table(); !both(s) {
		t.Fatalf("a healthy replica left IPVS:\n%s", s)
	}

	dbs[0].exec(t, "STOP SLAVE")
	took := waitTable("db1 still in IPVS after STOP SLAVE", 10*time.Second, func(s string) bool {
		return !rs("198.51.100.10").MatchString(s) && rs("198.51.100.11").MatchString(s)
	})
	t.Logf("db1 left IPVS %v after STOP SLAVE", took)
	if out := p.Output(); !strings.Contains(out, "Slave_IO_Running is No") {
		t.Errorf("lvsd log does not give the replication error:\n%s", out)
	}

	dbs[0].exec(t, "START SLAVE")
	took = waitTable("db1 not back in IPVS after START SLAVE", 10*time.Second, both)
	t.Logf("db1 back in IPVS %v after START SLAVE", took)

	if out := p.Output(); strings.Contains(out, "monitor-pw") {
		t.Errorf("lvsd log shows the mysql_check password:\n%s", out)
	}
}
