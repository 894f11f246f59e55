package lab

import (
	"testing"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/examples"
)

// The scenario's files must stay valid and carry each node's settings; a
// change to the example that breaks the substitution fails here, not in the VM.
func TestSeed001Files(t *testing.T) {
	if Seed001Director("MASTER", 101) != examples.SeedDirector {
		t.Error("lvs1 must run the example file verbatim")
	}
	for _, tc := range []struct {
		state conf.State
		prio  uint8
	}{{conf.StateMaster, 101}, {conf.StateBackup, 100}} {
		cfg, diags := conf.Parse([]byte(Seed001Director(string(tc.state), int(tc.prio))), "director.hcl")
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if got := cfg.VRRP[0]; got.State != tc.state || got.Priority != tc.prio {
			t.Errorf("want %s/%d, got %s/%d", tc.state, tc.prio, got.State, got.Priority)
		}
	}
	if _, diags := conf.Parse([]byte(Seed001Agent), "agent.hcl"); diags.HasErrors() {
		t.Fatal(diags)
	}
}
