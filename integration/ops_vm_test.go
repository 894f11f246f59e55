//go:build vm

package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// opsDirector is a director with a VRRP instance (its auth_pass is the
// secret status and logs must never show) and one NAT service whose real
// servers are checked against listeners on the director itself: a is up,
// b's port has no listener.
const opsDirector = `vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 100
  advert_int        = 1
  authentication {
    auth_type = "PASS"
    auth_pass = %q
  }
  virtual_ipaddress = ["198.51.100.30/24"]
}

virtual_server "web" {
  address    = "198.51.100.40:80"
  lvs_sched  = "wrr"
  lvs_method = "NAT"
  delay_loop = "1s"

  real_server "a" {
    address = "198.51.100.10:80"
    weight  = 2
    tcp_check {
      connect_ip         = "198.51.100.20"
      connect_port       = 3306
      connect_timeout    = %q
      delay_before_retry = "1s"
    }
  }
  real_server "b" {
    address = "198.51.100.11:80"
    weight  = 1
    tcp_check {
      connect_ip         = "198.51.100.20"
      connect_port       = 3307
      connect_timeout    = "1s"
      delay_before_retry = "1s"
    }
  }
}
`

type opsStatus struct {
	Config struct {
		File   string `json:"file"`
		SHA256 string `json:"sha256"`
	} `json:"config"`
	LastReload *struct {
		Trigger string   `json:"trigger"`
		Applied bool     `json:"applied"`
		Error   string   `json:"error"`
		Changes []string `json:"changes"`
	} `json:"last_reload"`
	VRRP []struct {
		State             string `json:"state"`
		EffectivePriority int    `json:"effective_priority"`
		MasterIP          string `json:"master_ip"`
		Transitions       int    `json:"transitions"`
		TxAdverts         uint64 `json:"tx_adverts"`
	} `json:"vrrp"`
	VirtualServers []struct {
		InKernel bool `json:"in_kernel"`
		Stats    *struct {
			Conns uint64 `json:"conns"`
		} `json:"stats"`
		RealServers []struct {
			Name         string `json:"name"`
			KernelWeight *int   `json:"kernel_weight"`
			Check        string `json:"check"`
			LastError    string `json:"last_error"`
			Transitions  int    `json:"transitions"`
		} `json:"real_servers"`
	} `json:"virtual_servers"`
}

// TestOpsStatusReload asserts `lvsd status` against a running director
// with kernel IPVS, and the reload promises: a check-only reload touches
// neither VRRP nor IPVS, a broken file is refused with its place and
// without its secret, and no secret ever shows in status or logs.
func TestOpsStatusReload(t *testing.T) {
	const secret = "s3cr3tpw"
	l := newLab(t, "opr")
	h := addHost(t, l, "lvs", "198.51.100.20/24")
	if _, err := h.Run("modprobe", "ip_vs"); err != nil {
		t.Fatal(err)
	}
	up, err := h.Serve("198.51.100.20:3306", "mysql\n")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	good := sprintf(opsDirector, secret, "1s")
	file, err := l.WriteFile("lvs.hcl", good)
	if err != nil {
		t.Fatal(err)
	}
	sock := l.Dir + "/lvs.sock"
	p, err := h.Start("lvsd", lvsdBin, "director", "-f", file, "--control", sock, "--pid-file", l.Dir+"/lvs.pid",
		"--resync-interval", "1s", "--log-level", "debug")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("lvsd log:\n%s", p.Output())
		}
	})
	tryStatus := func() (opsStatus, string, error) {
		out, err := h.Run(lvsdBin, "status", "--json", "--control", sock)
		var st opsStatus
		if err == nil {
			err = json.Unmarshal([]byte(out), &st)
		}
		return st, out, err
	}
	status := func() (opsStatus, string) {
		t.Helper()
		st, out, err := tryStatus()
		if err != nil {
			t.Fatalf("lvsd status --json: %v\n%s", err, out)
		}
		return st, out
	}

	// Master (no peer), a up in the kernel with weight 2, b down and out.
	var st opsStatus
	var raw string
	took, ok := lab.WaitFor(15*time.Second, func() bool {
		if st, raw, err = tryStatus(); err != nil {
			return false
		}
		if len(st.VRRP) != 1 || st.VRRP[0].State != "MASTER" || len(st.VirtualServers) != 1 {
			return false
		}
		rs := st.VirtualServers[0].RealServers
		return len(rs) == 2 && rs[0].Check == "up" && rs[0].KernelWeight != nil && *rs[0].KernelWeight == 2 &&
			rs[1].Check == "down" && rs[1].KernelWeight == nil
	})
	if !ok {
		t.Fatalf("status never showed master, a up (weight 2), b down:\n%s", raw)
	}
	t.Logf("status settled after %v", took)
	sum := sha256.Sum256([]byte(good))
	if st.Config.File != file || st.Config.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("config %+v, want %s sha256 %x", st.Config, file, sum)
	}
	vs := st.VirtualServers[0]
	if !vs.InKernel || vs.Stats == nil || vs.RealServers[1].LastError == "" || st.VRRP[0].EffectivePriority != 100 || st.VRRP[0].MasterIP != "198.51.100.20" {
		t.Errorf("status content:\n%s", raw)
	}
	human, err := h.Run(lvsdBin, "status", "--control", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("lvsd status:\n%s", human)
	for _, re := range []string{
		`VI_1\s+51\s+eth0\s+MASTER\s+100\s+198\.51\.100\.20\s+198\.51\.100\.30/24`,
		`TCP\s+198\.51\.100\.40:80 wrr \(web\)`,
		`->\s+198\.51\.100\.10:80\s+Masq\s+2\s+0\s+0\s+0\s+0\s+0\s+0\s+up`,
		`->\s+198\.51\.100\.11:80\s+Masq\s+-\s+.*DOWN \[1\]`,
		`\[1\] TCP 198\.51\.100\.40:80 -> 198\.51\.100\.11:80 \(b\): .*refused`,
	} {
		if !regexp.MustCompile(re).MatchString(human) {
			t.Errorf("lvsd status lacks %s", re)
		}
	}

	// A reload that changes only a check: nothing in VRRP or IPVS moves.
	transitions := st.VRRP[0].Transitions
	before := len(p.Output())
	if err := os.WriteFile(file, []byte(sprintf(opsDirector, secret, "2s")), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := h.Run(lvsdBin, "reload", "--control", sock)
	if err != nil || !strings.Contains(out, "checks changed") {
		t.Fatalf("lvsd reload (check only): %v\n%s", err, out)
	}
	time.Sleep(2500 * time.Millisecond) // two resyncs
	after := p.Output()[before:]
	for _, bad := range []string{"ipvs op", "repaired", "vrrp instance stopped", "vrrp state change"} {
		if strings.Contains(after, bad) {
			t.Errorf("check-only reload logged %q:\n%s", bad, after)
		}
	}
	st, raw = status()
	if st.VRRP[0].State != "MASTER" || st.VRRP[0].Transitions != transitions || st.LastReload == nil || !st.LastReload.Applied {
		t.Errorf("after check-only reload:\n%s", raw)
	}

	// A broken file (the error is on the secret's own line) is refused.
	if err := os.WriteFile(file, []byte(sprintf(opsDirector, secret+"TOOLONG", "2s")), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = h.Run(lvsdBin, "reload", "--control", sock)
	if err == nil || !strings.Contains(out, file+":8,") || !strings.Contains(out, "REDACTED") {
		t.Errorf("lvsd reload of a broken file: err %v (want exit 1), output lacks the place or the redaction:\n%s", err, out)
	}
	if strings.Contains(out, secret) {
		t.Errorf("lvsd reload printed the secret:\n%s", out)
	}
	st, raw = status()
	if p.Exited() || st.LastReload == nil || st.LastReload.Applied || st.VRRP[0].State != "MASTER" || !st.VirtualServers[0].InKernel {
		t.Errorf("after a refused reload:\n%s", raw)
	}
	human, _ = h.Run(lvsdBin, "status", "--control", sock)
	if !strings.Contains(human, "REFUSED") {
		t.Errorf("human status does not show the refused reload:\n%s", human)
	}

	if err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Errorf("stop: %v", err)
	}
	for name, s := range map[string]string{"status JSON": raw, "status": human, "log": p.Output()} {
		if strings.Contains(s, secret) {
			t.Errorf("%s contains the auth_pass:\n%s", name, s)
		}
	}
}
