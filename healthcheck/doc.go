// Package healthcheck decides whether each real server is up, with
// keepalived's TCP_CHECK semantics, so users moving from keepalived see the
// same removal and re-add times.
//
// It owns:
//   - the pure retry policy (State.Observe): no clock, no goroutines;
//   - the probes (Checker, TCPChecker): one attempt each, bounded by a
//     context deadline;
//   - the scheduler (Manager): one timer per probed real server, jittered
//     first check, state kept across config reloads.
//
// It must not touch the kernel: it never programs IPVS. It reports
// transitions through a callback and answers Up(vs, rs); the composition root
// (cmd/lvsd) turns that into IPVS desired state.
//
// Policy (keepalived's, measured against keepalived in seed 001):
//   - a real server starts UP (keepalived without `alpha`);
//   - a check runs every delay_loop; one success declares the server up;
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
