// Package conf turns an lvsd HCL file into a validated, typed [Config].
//
// It owns the configuration language: the schema (block and attribute
// names follow keepalived's so that its users recognise them), keepalived's
// defaults and their cascade (virtual_server -> real_server -> tcp_check),
// every validation rule, and the rendering of diagnostics as
// FILE:LINE,COL messages with a source snippet.
//
// Parsing is strict where keepalived is lenient (keepalived's fault: unknown
// keywords are ignored and invalid values silently defaulted or truncated).
// Unknown attributes and blocks are errors, out-of-range values are errors,
// and every error found in a file is reported, each with its source range, in
// one pass. Non-fatal surprises (nopreempt with state MASTER, deprecated
// aliases such as nb_get_retry) are warnings: they are returned with the
// diagnostics and also kept in [Config.Warnings].
//
// A file configures either a director (vrrp_instance and virtual_server
// blocks) or an agent (exactly one agent block), never both.
//
// The package only reads files; it does not touch the kernel, the network or
// any process state. Consumers receive values that are already parsed
// (netip.AddrPort, time.Duration) and never re-validate them.
//
// Typical use:
//
//	cfg, sources, diags := conf.LoadWithSources(path)
//	if len(diags) > 0 {
//		conf.WriteDiagnostics(os.Stderr, diags, sources)
//	}
//	if cfg == nil { // diags.HasErrors()
//		os.Exit(1)
//	}
package conf
