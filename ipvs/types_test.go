package ipvs

import (
	"encoding/json"
	"testing"
)

func TestOpString(t *testing.T) {
	s := svc(vip1, "rr")
	tests := []struct {
		op   Op
		want string
	}{
		{Op{Kind: AddService, Service: s}, "add service TCP 198.51.100.30:3306 rr"},
		{Op{Kind: UpdateService, Service: svc(vip1, "wlc"), Old: &OpOld{Sched: "rr"}}, "update service TCP 198.51.100.30:3306 sched rr->wlc"},
		{Op{Kind: DeleteService, Service: s}, "delete service TCP 198.51.100.30:3306"},
		{Op{Kind: AddDest, Service: s, Dest: dr("198.51.100.10:3306", 1)}, "add dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306 route weight 1"},
		{Op{Kind: AddDest, Service: s, Dest: nat("198.51.100.10:3306", 5)}, "add dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306 masq weight 5"},
		{Op{Kind: AddDest, Service: s, Dest: Dest{Addr: ap("198.51.100.10:3306"), Weight: 2, Method: TUN}}, "add dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306 tunnel weight 2"},
		{Op{Kind: UpdateDest, Service: s, Dest: dr("198.51.100.10:3306", 0), Old: &OpOld{Dest: dr("198.51.100.10:3306", 1)}}, "update dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306 weight 1->0"},
		{Op{Kind: UpdateDest, Service: s, Dest: dr("198.51.100.10:3306", 1), Old: &OpOld{Dest: nat("198.51.100.10:3306", 1)}}, "update dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306 method masq->route"},
		{Op{Kind: UpdateDest, Service: s, Dest: dr("198.51.100.10:3306", 3), Old: &OpOld{Dest: nat("198.51.100.10:3306", 1)}}, "update dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306 method masq->route weight 1->3"},
		{Op{Kind: DeleteDest, Service: s, Dest: dr("198.51.100.10:3306", 1)}, "delete dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306"},
		{Op{Kind: AddService, Service: svc(Key{Protocol: UDP, Addr: ap("[2001:db8::1]:53")}, "sh")}, "add service UDP [2001:db8::1]:53 sh"},
		{Op{Kind: OpKind(42), Service: s}, "op(42) TCP 198.51.100.30:3306"},
	}
	for _, tt := range tests {
		if got := tt.op.String(); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
}

func TestServiceJSON(t *testing.T) {
	b, err := json.Marshal(svc(vip1, "rr", dr("198.51.100.10:3306", 1)))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"protocol":"TCP","addr":"198.51.100.30:3306","sched":"rr","dests":[{"addr":"198.51.100.10:3306","weight":1,"method":"DR"}]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}
