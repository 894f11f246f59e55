package healthcheck

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/lvsd/lvsd/conf"
)

// MySQLChecker is mysql_check: it logs in over the MySQL protocol on a fresh
// connection (never a pooled one: the check is that the server accepts a new
// client), then runs the configured query, replication and read_only tests,
// and quits. Errors carry the server's own text, such as
// "Error 1045 (28000): Access denied for user ...". The password never
// appears in an error.
type MySQLChecker struct {
	Target netip.AddrPort
	// Timeout bounds the whole attempt (connect_timeout): dial, handshake
	// and queries; <= 0 leaves only the caller's deadline.
	Timeout time.Duration
	Config  conf.MySQLCheck
	// Dialer, when set, dials the connection (bindto, bind_port).
	Dialer ContextDialer
}

var _ Checker = (*MySQLChecker)(nil)

// NewMySQLChecker is the Checker of a mysql_check block.
func NewMySQLChecker(c conf.Check) *MySQLChecker {
	mc := &MySQLChecker{Target: c.Target, Timeout: connectTimeout(c)}
	if d := sourceDialer(c, "tcp"); d != nil {
		mc.Dialer = d
	}
	if c.MySQL != nil {
		mc.Config = *c.MySQL
	}
	return mc
}

// maxPacket is announced instead of asking the server for
// max_allowed_packet, which would cost a query per check; health queries
// are small.
const maxPacket = 4 << 20

// Check runs one attempt.
func (c *MySQLChecker) Check(ctx context.Context) error {
	// The Manager's deadline is usually this very timeout: a second
	// context and timer would only cost CPU at every check.
	if dl, ok := ctx.Deadline(); c.Timeout > 0 && (!ok || time.Until(dl) > c.Timeout) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	cfg := mysql.NewConfig()
	cfg.User = c.Config.User
	cfg.Passwd = c.Config.Password
	cfg.Net = "tcp"
	cfg.Addr = c.Target.String()
	cfg.MaxAllowedPacket = maxPacket
	cfg.Logger = &mysql.NopLogger{}
	if c.Dialer != nil {
		cfg.DialFunc = c.Dialer.DialContext
	}
	// The driver honours ctx while dialing, in the handshake and in
	// queries (it closes the socket when ctx ends). Socket deadlines a
	// little later are a backstop only, so that the error says "deadline
	// exceeded" rather than the driver's "invalid connection".
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return fmt.Errorf("mysql_check %s@%s: connect: %w", c.Config.User, c.Target, context.DeadlineExceeded)
		}
		cfg.Timeout = left
		cfg.ReadTimeout, cfg.WriteTimeout = left+time.Second, left+time.Second
	}
	conn, err := c.connect(ctx, cfg)
	if err != nil {
		return fmt.Errorf("mysql_check %s@%s: connect: %w", c.Config.User, c.Target, err)
	}
	defer conn.Close()
	q, ok := conn.(driver.QueryerContext)
	if !ok {
		return errors.New("mysql_check: driver connection cannot query")
	}
	if err := c.checks(ctx, q); err != nil {
		return fmt.Errorf("mysql_check %s@%s: %w", c.Config.User, c.Target, err)
	}
	return nil
}

func (c *MySQLChecker) connect(ctx context.Context, cfg *mysql.Config) (driver.Conn, error) {
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	dc, err := conn.Connect(ctx)
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		// The driver reports a deadline hit inside the handshake as
		// "invalid connection" or an i/o timeout; say which limit it was.
		return nil, fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	if errors.Is(err, mysql.ErrInvalidConn) {
		// The driver's words for "the server hung up on us".
		return nil, fmt.Errorf("server closed the connection (%w)", err)
	}
	return dc, err
}

func (c *MySQLChecker) checks(ctx context.Context, q driver.QueryerContext) error {
	if c.Config.Query != "" {
		rows, err := query(ctx, q, c.Config.Query)
		if err != nil {
			return fmt.Errorf("query %q: %w", c.Config.Query, err)
		}
		if len(rows.values) == 0 {
			return fmt.Errorf("query %q returned no row", c.Config.Query)
		}
	}
	if want := c.Config.ReadOnly; want != nil {
		rows, err := query(ctx, q, "SELECT @@global.read_only")
		if err != nil {
			return fmt.Errorf("read_only: %w", err)
		}
		if len(rows.values) == 0 {
			return errors.New("read_only: SELECT @@global.read_only returned no row")
		}
		got := truthy(rows.values[0][0])
		if got != *want {
			return fmt.Errorf("read_only is %v (%s), want %v", got, rows.values[0][0], *want)
		}
	}
	if r := c.Config.Replication; r != nil {
		if err := replication(ctx, q, r.MaxLag); err != nil {
			return fmt.Errorf("replication: %w", err)
		}
	}
	return nil
}

// truthy reads a MySQL boolean system variable: 0/OFF/false are false.
func truthy(s string) bool {
	switch strings.ToUpper(s) {
	case "0", "OFF", "FALSE", "NO", "":
		return false
	}
	return true
}

// replication checks the replica threads and the lag. MySQL 8.4 only knows
// SHOW REPLICA STATUS (columns Replica_*); MariaDB and older MySQL answer
// SHOW SLAVE STATUS (columns Slave_*), so the column names are looked up in
// both spellings.
func replication(ctx context.Context, q driver.QueryerContext, maxLag time.Duration) error {
	rows, err := query(ctx, q, "SHOW SLAVE STATUS")
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1064 { // ER_PARSE_ERROR
		rows, err = query(ctx, q, "SHOW REPLICA STATUS")
	}
	if err != nil {
		return err
	}
	if len(rows.values) == 0 {
		return errors.New("not a replica (SHOW SLAVE STATUS returned no row)")
	}
	st, err := parseReplicaStatus(rows.columns, rows.values[0])
	if err != nil {
		return err
	}
	return st.verdict(maxLag)
}

// replicaStatus is the part of SHOW SLAVE STATUS a check needs.
type replicaStatus struct {
	IORunning, SQLRunning string
	// Lag is nil when Seconds_Behind_Master is NULL (SQL thread stopped or
	// IO thread not connected).
	Lag                *time.Duration
	LastIOErr, LastSQL string
}

func parseReplicaStatus(cols, row []string) (replicaStatus, error) {
	get := func(names ...string) (string, bool) {
		for _, n := range names {
			for i, c := range cols {
				if strings.EqualFold(c, n) && i < len(row) {
					return row[i], true
				}
			}
		}
		return "", false
	}
	var st replicaStatus
	var ok bool
	if st.IORunning, ok = get("Slave_IO_Running", "Replica_IO_Running"); !ok {
		return st, errors.New("SHOW SLAVE STATUS has no Slave_IO_Running column")
	}
	if st.SQLRunning, ok = get("Slave_SQL_Running", "Replica_SQL_Running"); !ok {
		return st, errors.New("SHOW SLAVE STATUS has no Slave_SQL_Running column")
	}
	st.LastIOErr, _ = get("Last_IO_Error")
	st.LastSQL, _ = get("Last_SQL_Error")
	lag, ok := get("Seconds_Behind_Master", "Seconds_Behind_Source")
	if !ok {
		return st, errors.New("SHOW SLAVE STATUS has no Seconds_Behind_Master column")
	}
	if lag != nullValue {
		n, err := strconv.ParseUint(lag, 10, 32)
		if err != nil {
			return st, fmt.Errorf("Seconds_Behind_Master %q: %w", lag, err)
		}
		d := time.Duration(n) * time.Second
		st.Lag = &d
	}
	return st, nil
}

// verdict is nil when both threads run and the lag is known and at most
// maxLag.
func (st replicaStatus) verdict(maxLag time.Duration) error {
	var problems []string
	if st.IORunning != "Yes" {
		p := "Slave_IO_Running is " + st.IORunning
		if st.LastIOErr != "" {
			p += " (" + st.LastIOErr + ")"
		}
		problems = append(problems, p)
	}
	if st.SQLRunning != "Yes" {
		p := "Slave_SQL_Running is " + st.SQLRunning
		if st.LastSQL != "" {
			p += " (" + st.LastSQL + ")"
		}
		problems = append(problems, p)
	}
	switch {
	case st.Lag == nil:
		problems = append(problems, "Seconds_Behind_Master is NULL")
	case *st.Lag > maxLag:
		problems = append(problems, fmt.Sprintf("Seconds_Behind_Master %d exceeds max_lag %v", int64(*st.Lag/time.Second), maxLag))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// nullValue stands for SQL NULL in result rows (a value MySQL never prints
// for the columns read here).
const nullValue = "\x00NULL"

type result struct {
	columns []string
	values  [][]string
}

// query runs a text-protocol query and reads the whole result as strings
// (NULL as nullValue). Health queries return a handful of rows.
func query(ctx context.Context, q driver.QueryerContext, sql string) (result, error) {
	rows, err := q.QueryContext(ctx, sql, nil)
	if err != nil {
		return result{}, err
	}
	defer rows.Close()
	res := result{columns: rows.Columns()}
	dest := make([]driver.Value, len(res.columns))
	for {
		if err := rows.Next(dest); err != nil {
			if errors.Is(err, io.EOF) {
				return res, nil
			}
			return res, err
		}
		row := make([]string, len(dest))
		for i, v := range dest {
			switch v := v.(type) {
			case nil:
				row[i] = nullValue
			case []byte:
				row[i] = string(v)
			default:
				row[i] = fmt.Sprint(v)
			}
		}
		res.values = append(res.values, row)
	}
}
