// Package healthcheck decides whether each real server is up, with
// keepalived's checker semantics, so users moving from keepalived see the
// same removal and re-add times.
//
// It owns:
//   - the pure retry policy (State.Observe): no clock, no goroutines;
//   - the probes (Checker): TCPChecker (tcp_check), MySQLChecker
//     (mysql_check: login, query, read_only, replication threads and lag,
//     over github.com/go-sql-driver/mysql on a fresh connection each time),
//     HTTPChecker (http_get, ssl_get: status, body regex, virtual host,
//     verified TLS); one attempt each, bounded by a context deadline;
//   - the scheduler (Manager): one schedule and one State per checker of a
//     real server, jittered first check, state kept across config reloads;
//     a real server is up while all its checkers are up. Plain tcp_checks
//     run on one event loop (tcpLoop: epoll, a heap of due checks and
//     deadlines, non-blocking sockets, no goroutine or allocation per
//     check, as keepalived's scheduler); other checkers get a timer and
//     a goroutine per attempt. Identical checkers
//     used by several virtual servers (same kind, target and settings) run
//     once and their verdict fans out (keepalived #1495 runs them once per
//     virtual server).
//
// Passwords (mysql_check) never reach a log line, an error or Status.
//
// It must not touch the kernel: it never programs IPVS. It reports
// transitions through a callback and answers Up(vs, rs); the composition root
// (cmd/lvsd) turns that into IPVS desired state.
//
// Policy (keepalived's, measured against keepalived in seed 001):
//   - a real server starts UP (keepalived without `alpha`);
//   - a check runs every delay_loop; one success (rise, default 1, in a row)
//     declares the server up;
//   - while up, a failed attempt is retried after delay_before_retry until
//     `retry` retries have been made; the next failure (retry+1 consecutive
//     failed attempts) declares the server down and the following check is
//     after delay_loop again;
//   - while down, checks continue every delay_loop without retries and
//     further failures cause no transition.
//
// With retry 3, delay_before_retry 3s and delay_loop 3s the server is removed
// 9 s after the first failed attempt, i.e. 9-12 s after the service died, and
// re-added 0-3 s after it came back.
//
// The first check of a probe runs after a random delay in [0, delay_loop) so
// that a thousand real servers configured together are not all probed in the
// same instant (keepalived staggers its checkers the same way).
package healthcheck
