package conf

import "testing"

// inhibit_on_failure on a virtual server is the default of its real
// servers; a real server's own setting wins either way.
func TestInhibitOnFailureCascade(t *testing.T) {
	src := `virtual_server "vs" {
  address            = "198.51.100.30:3306"
  inhibit_on_failure = true
  real_server "inherits" {
    address = "198.51.100.10:3306"
  }
  real_server "opts-out" {
    address            = "198.51.100.11:3306"
    inhibit_on_failure = false
  }
}
virtual_server "plain" {
  address = "198.51.100.31:3306"
  real_server "default" {
    address = "198.51.100.10:3306"
  }
  real_server "opts-in" {
    address            = "198.51.100.11:3306"
    inhibit_on_failure = true
  }
}
`
	cfg, diags := Parse([]byte(src), "test.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := map[string]bool{"inherits": true, "opts-out": false, "default": false, "opts-in": true}
	for _, vs := range cfg.VirtualServers {
		for _, rs := range vs.RealServers {
			if rs.InhibitOnFailure != want[rs.Name] {
				t.Errorf("%s/%s: inhibit_on_failure %v, want %v", vs.Name, rs.Name, rs.InhibitOnFailure, want[rs.Name])
			}
		}
	}
}
