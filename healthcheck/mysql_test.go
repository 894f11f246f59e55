package healthcheck

import (
	"context"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

func TestReplicaStatus(t *testing.T) {
	mariaCols := []string{"Slave_IO_State", "Master_Host", "Slave_IO_Running", "Slave_SQL_Running",
		"Last_IO_Error", "Last_SQL_Error", "Seconds_Behind_Master"}
	mysql84Cols := []string{"Replica_IO_Running", "Replica_SQL_Running", "Seconds_Behind_Source"}
	for _, tc := range []struct {
		name    string
		cols    []string
		row     []string
		maxLag  time.Duration
		wantErr string // "" = healthy
	}{
		{"healthy", mariaCols, []string{"Waiting", "198.51.100.11", "Yes", "Yes", "", "", "0"}, 30 * time.Second, ""},
		{"lag at max_lag", mariaCols, []string{"", "", "Yes", "Yes", "", "", "30"}, 30 * time.Second, ""},
		{"lag above max_lag", mariaCols, []string{"", "", "Yes", "Yes", "", "", "31"}, 30 * time.Second, "Seconds_Behind_Master 31 exceeds max_lag 30s"},
		{"max_lag 0", mariaCols, []string{"", "", "Yes", "Yes", "", "", "1"}, 0, "Seconds_Behind_Master 1 exceeds max_lag 0s"},
		{"STOP SLAVE", mariaCols, []string{"", "", "No", "No", "", "", nullValue}, 30 * time.Second,
			"Slave_IO_Running is No; Slave_SQL_Running is No; Seconds_Behind_Master is NULL"},
		{"IO thread connecting, with its error", mariaCols,
			[]string{"", "", "Connecting", "Yes", "error connecting to master 'repl@198.51.100.11:3306'", "", nullValue}, 30 * time.Second,
			"Slave_IO_Running is Connecting (error connecting to master 'repl@198.51.100.11:3306'); Seconds_Behind_Master is NULL"},
		{"SQL thread error", mariaCols, []string{"", "", "Yes", "No", "", "Error 'Duplicate entry'", nullValue}, 30 * time.Second,
			"Slave_SQL_Running is No (Error 'Duplicate entry')"},
		{"MySQL 8.4 column names", mysql84Cols, []string{"Yes", "Yes", "2"}, 30 * time.Second, ""},
		{"MySQL 8.4 lag", mysql84Cols, []string{"Yes", "Yes", "99"}, 30 * time.Second, "exceeds max_lag"},
		{"missing column", []string{"Slave_IO_Running"}, []string{"Yes"}, 0, "no Slave_SQL_Running column"},
		{"bad lag", mariaCols, []string{"", "", "Yes", "Yes", "", "", "-1"}, 0, `Seconds_Behind_Master "-1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := parseReplicaStatus(tc.cols, tc.row)
			if err == nil {
				err = st.verdict(tc.maxLag)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v, want healthy", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestTruthy(t *testing.T) {
	for s, want := range map[string]bool{"0": false, "1": true, "OFF": false, "ON": true, "off": false, "": false, "NO_LOCK": true} {
		if got := truthy(s); got != want {
			t.Errorf("truthy(%q) = %v", s, got)
		}
	}
}

// mysqlHandshakeThenClose hangs up after reading the client's login.
func mysqlHandshakeThenClose(c net.Conn) {
	mysqlHandshakeThenSilence(c)
	c.Close()
}

// mysqlHandshakeThenSilence sends a plausible MariaDB greeting, then never
// answers the login.
func mysqlHandshakeThenSilence(c net.Conn) {
	// Protocol::HandshakeV10 with a 20-byte scramble and
	// mysql_native_password, just enough for the driver to answer it.
	payload := []byte{10}
	payload = append(payload, "5.5.5-10.11.0-MariaDB\x00"...)
	payload = append(payload, 1, 0, 0, 0)            // connection id
	payload = append(payload, "abcdefgh\x00"...)     // scramble part 1 + filler
	payload = append(payload, 0xff, 0xf7)            // capabilities low
	payload = append(payload, 8, 2, 0)               // charset, status
	payload = append(payload, 0xff, 0x81, 21)        // capabilities high, auth data len
	payload = append(payload, make([]byte, 10)...)   // reserved
	payload = append(payload, "ijklmnopqrst\x00"...) // scramble part 2
	payload = append(payload, "mysql_native_password\x00"...)
	hdr := []byte{byte(len(payload)), byte(len(payload) >> 8), byte(len(payload) >> 16), 0}
	_, _ = c.Write(append(hdr, payload...))
	_, _ = c.Read(make([]byte, 4096))
}

// TestHostileMySQL: a server that accepts and never answers, answers
// garbage, hangs up, or stops after the greeting never holds the checker
// past its timeout, and the error says what happened.
func TestHostileMySQL(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handle  func(net.Conn)
		wantErr string
	}{
		{"silent", silent, "deadline exceeded"},
		{"garbage", garbage, "."},
		{"hang up", closeAtOnce, "(EOF|invalid connection|reset|closed)"},
		{"greeting then silence", mysqlHandshakeThenSilence, "deadline exceeded"},
		{"closes mid-handshake", mysqlHandshakeThenClose, "(EOF|invalid connection|reset|closed)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := hostile(t, tc.handle)
			c := NewMySQLChecker(conf.Check{Kind: conf.CheckMySQL, Target: netip.MustParseAddrPort(addr),
				ConnectTimeout: 300 * time.Millisecond, MySQL: &conf.MySQLCheck{User: "haproxy_check", Password: "s3cret-pw"}})
			start := time.Now()
			err := c.Check(context.Background())
			took := time.Since(start)
			if err == nil || !regexp.MustCompile(tc.wantErr).MatchString(err.Error()) {
				t.Fatalf("Check = %v, want error matching %q", err, tc.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "mysql_check haproxy_check@"+addr+": connect: ") {
				t.Errorf("error %q does not name the checker", err)
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("error %q shows the password", err)
			}
			if took > 10*time.Second {
				t.Errorf("Check took %v with a 300ms connect_timeout", took)
			}
		})
	}
}

func TestMySQLCheckRedacted(t *testing.T) {
	m := conf.MySQLCheck{User: "monitor", Password: "s3cret-pw"}
	for _, s := range []string{m.String(), (&m).String()} {
		if strings.Contains(s, "s3cret-pw") || !strings.Contains(s, "monitor") {
			t.Errorf("String() = %q", s)
		}
	}
}
