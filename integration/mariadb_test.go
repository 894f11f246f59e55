//go:build integration || vm

package integration

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// mariadb is one mariadbd started by the test, on loopback.
type mariadb struct {
	name string
	ip   string // where it listens
	dir  string
	port int
	cmd  *exec.Cmd
	done chan error
	root *sql.DB // root over the unix socket
	once sync.Once
}

func (m *mariadb) addr() netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr(m.ip), uint16(m.port))
}

// mariadbBins finds Debian's MariaDB server binaries; missing is a failure,
// never a skip: CI installs them with `make deps`.
func mariadbBins(t *testing.T) (installDB, server string) {
	t.Helper()
	find := func(name string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		for _, d := range []string{"/usr/sbin", "/usr/bin"} {
			if p := filepath.Join(d, name); isExec(p) {
				return p
			}
		}
		t.Fatalf("%s not found: apt-get install mariadb-server mariadb-client (or make deps)", name)
		return ""
	}
	return find("mariadb-install-db"), find("mariadbd")
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode()&0o111 != 0
}

// freePort returns a loopback TCP port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// fastInnoDB trades durability for speed: these databases live for a test.
var fastInnoDB = []string{
	"--innodb-log-file-size=4M", "--innodb-buffer-pool-size=16M",
	"--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
}

// startMariaDBPair installs one data directory, copies it, and starts two
// servers in master-master replication as in the seeds (each replicates
// from the other, distinct server ids, GTID domains and auto-increment
// offsets).
func startMariaDBPair(t *testing.T) [2]*mariadb {
	t.Helper()
	lo := dbHost{ip: "127.0.0.1", clients: "127.0.0.1"}
	return startMariaDBPairOn(t, [2]dbHost{lo, lo})
}

// dbHost says where one server of a pair runs: its listening address, the
// command prefix that puts it in its namespace (nil: here), and the host
// part of its accounts (who may connect).
type dbHost struct {
	ip      string
	prefix  []string
	clients string
	port    int // 0: a free port
}

func startMariaDBPairOn(t *testing.T, hosts [2]dbHost) [2]*mariadb {
	t.Helper()
	installDB, server := mariadbBins(t)
	base := t.TempDir()
	tpl := filepath.Join(base, "template")
	args := append([]string{"--no-defaults", "--datadir=" + tpl, "--user=root",
		"--auth-root-authentication-method=normal", "--skip-test-db"}, fastInnoDB...)
	if out, err := exec.Command(installDB, args...).CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	var dbs [2]*mariadb
	for i := range dbs {
		h := hosts[i]
		port := h.port
		if port == 0 {
			port = freePort(t)
		}
		m := &mariadb{name: fmt.Sprintf("db%d", i+1), ip: h.ip, dir: filepath.Join(base, fmt.Sprintf("db%d", i+1)), port: port, done: make(chan error, 1)}
		if out, err := exec.Command("cp", "-a", tpl, m.dir).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v\n%s", err, out)
		}
		args := append([]string{"--no-defaults", "--datadir=" + m.dir, "--socket=" + filepath.Join(m.dir, "sock"),
			fmt.Sprintf("--port=%d", m.port), "--bind-address=" + h.ip, "--user=root",
			"--pid-file=" + filepath.Join(m.dir, "pid"), "--log-error=" + filepath.Join(m.dir, "error.log"),
			fmt.Sprintf("--server-id=%d", i+1), fmt.Sprintf("--gtid-domain-id=%d", i+1),
			"--log-bin=" + filepath.Join(m.dir, "binlog"), "--log-slave-updates=0",
			"--auto-increment-increment=2", fmt.Sprintf("--auto-increment-offset=%d", i+1),
			"--skip-name-resolve", "--sync-binlog=0"}, fastInnoDB...)
		argv := append(slices.Clip(h.prefix), server)
		m.cmd = exec.Command(argv[0], append(argv[1:], args...)...)
		m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := m.cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", m.name, err)
		}
		go func() { m.done <- m.cmd.Wait() }()
		t.Cleanup(func() { m.stop(t) })
		dbs[i] = m
	}
	for i, m := range dbs {
		m.waitReady(t)
		cl := hosts[i].clients
		// Accounts (not replicated): repl for the peer, monitor for
		// mysql_check (SLAVE MONITOR for SHOW SLAVE STATUS), and
		// haproxy_check without a password as in seed 000.
		m.exec(t, "SET SESSION sql_log_bin = 0",
			"CREATE USER 'repl'@'"+cl+"' IDENTIFIED BY 'repl-pw'",
			"GRANT REPLICATION SLAVE ON *.* TO 'repl'@'"+cl+"'",
			"CREATE USER 'monitor'@'"+cl+"' IDENTIFIED BY 'monitor-pw'",
			"GRANT SLAVE MONITOR, REPLICATION CLIENT ON *.* TO 'monitor'@'"+cl+"'",
			"GRANT SELECT ON lab.* TO 'monitor'@'"+cl+"'",
			"CREATE USER 'haproxy_check'@'"+cl+"'",
			"CREATE DATABASE lab",
			"CREATE TABLE lab.t (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB",
			"INSERT INTO lab.t VALUES (1, 0)",
			"SET SESSION sql_log_bin = 1")
	}
	for i, m := range dbs {
		peer := dbs[1-i]
		m.exec(t, fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='%s', MASTER_PORT=%d, MASTER_USER='repl', "+
			"MASTER_PASSWORD='repl-pw', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1", peer.ip, peer.port),
			"START SLAVE")
	}
	return dbs
}

func (m *mariadb) waitReady(t *testing.T) {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "unix", filepath.Join(m.dir, "sock")
	cfg.Logger = &mysql.NopLogger{}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.root = sql.OpenDB(conn)
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-m.done:
			log, _ := os.ReadFile(filepath.Join(m.dir, "error.log"))
			t.Fatalf("%s exited: %v\n%s", m.name, err, log)
		default:
		}
		if err = m.root.Ping(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(m.dir, "error.log"))
			t.Fatalf("%s not ready after 30s: %v\n%s", m.name, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// exec runs statements as root on one connection, in order.
func (m *mariadb) exec(t *testing.T, stmts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := m.root.Conn(ctx)
	if err != nil {
		t.Fatalf("%s: %v", m.name, err)
	}
	defer c.Close()
	for _, s := range stmts {
		if _, err := c.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %s: %v", m.name, s, err)
		}
	}
}

func (m *mariadb) stop(t *testing.T) {
	m.once.Do(func() { m.stopOnce(t) })
}

func (m *mariadb) stopOnce(t *testing.T) {
	if m.root != nil {
		m.root.Close()
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(20 * time.Second):
		t.Errorf("%s ignored SIGTERM for 20s; killing it", m.name)
		_ = m.cmd.Process.Kill()
		<-m.done
	}
}

// slaveStatus is the replication state of m as root sees it, for failure
// messages.
func (m *mariadb) slaveStatus() string {
	rows, err := m.root.Query("SHOW SLAVE STATUS")
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !rows.Next() {
		return "no row"
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return err.Error()
	}
	var b strings.Builder
	for i, c := range cols {
		switch c {
		case "Slave_IO_Running", "Slave_SQL_Running", "Seconds_Behind_Master", "Slave_SQL_Running_State",
			"Gtid_IO_Pos", "Last_SQL_Error", "Last_IO_Error", "Exec_Master_Log_Pos", "Read_Master_Log_Pos", "SQL_Delay", "SQL_Remaining_Delay":
			fmt.Fprintf(&b, "%s=%q ", c, vals[i].String)
		}
	}
	return b.String()
}

// mysqlCheck builds the checker lvsd would build for a mysql_check block.
