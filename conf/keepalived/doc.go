// Package keepalived reads keepalived.conf files and converts them to lvsd
// HCL. It owns keepalived's grammar (nested blocks, include with globs,
// comments, quoted strings, $NAME parameters, @ conditionals) and the mapping
// of keepalived keywords onto lvsd's configuration language; it never
// touches the kernel and never decides what lvsd does with the result
// (the output is validated by package conf like any hand-written file).
//
// Nothing is dropped silently: every keyword the converter cannot carry is
// reported as a [Finding] with the file and line it came from.
package keepalived
