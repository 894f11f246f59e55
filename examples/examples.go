// Package examples ships the example configurations, so tests and the demo
// run the very files the README shows.
package examples

import _ "embed"

// SeedDirector is seed-001-director.hcl: the MySQL director of seed 001.
//
//go:embed seed-001-director.hcl
var SeedDirector string

// SeedAgent is seed-001-agent.hcl: the agent file of its real servers.
//
//go:embed seed-001-agent.hcl
var SeedAgent string
