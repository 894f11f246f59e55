package conf
import ("testing";"time")
func TestZZSlow(t *testing.T) {
	for _, s := range []string{vrrp("v", "  priority = 1e99999999"), vrrp("v", "  advert_int = 1e99999999"), vrrp("v", "  priority = 1.00000000000000000000000000000000000000000001")} {
		st := time.Now()
		_, d := Parse([]byte(s), "x")
		t.Log(time.Since(st), d[0].Detail[:min(200, len(d[0].Detail))])
	}
}
