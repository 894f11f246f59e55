package main

import (
	"testing"
	"time"

	"github.com/lvsd/lvsd/vrrp"
)

func TestVRRPTrackingLine(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	st := vrrp.Status{
		Tracked: []vrrp.Tracked{
			{Kind: vrrp.KindInterface, Name: "eth0", Up: true},
			{Kind: vrrp.KindScript, Name: "chk", Weight: -20},
		},
		SyncGroup:  "G",
		LastNotify: &vrrp.NotifyRun{Argv: []string{"/n", "INSTANCE", "VI_1", "FAULT", "80"}, At: now.Add(-3 * time.Second), Err: "notify /n: exit status 1"},
	}
	got := vrrpTracking(st, now)
	want := `tracks interface eth0 up, script chk DOWN weight -20; sync group G; last notify "/n INSTANCE VI_1 FAULT 80" ` + ago(now, now.Add(-3*time.Second)) + ` ago: notify /n: exit status 1`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if vrrpTracking(vrrp.Status{}, now) != "" {
		t.Fatal("line for an instance without tracking")
	}
}

func TestVRRPTrackingLineFiles(t *testing.T) {
	st := vrrp.Status{Tracked: []vrrp.Tracked{
		{Kind: vrrp.KindFile, Name: "prio", Weight: 10, Value: 3, Path: "/run/lvsd/prio", Up: true},
		{Kind: vrrp.KindFile, Name: "maint", Weight: 0, Path: "/run/lvsd/maint", Reverse: true},
	}}
	got := vrrpTracking(st, time.Now())
	want := "tracks file prio up /run/lvsd/prio value 3 weight +10, file maint DOWN /run/lvsd/maint value 0 weight +0 reverse"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestVRRPTrackingLineProcess(t *testing.T) {
	st := vrrp.Status{Tracked: []vrrp.Tracked{
		{Kind: vrrp.KindProcess, Name: "haproxy", Weight: -30, Value: 2, Path: "haproxy", Up: true, Reverse: true},
	}}
	if got, want := vrrpTracking(st, time.Now()), "tracks process haproxy up (2 running) weight -30 reverse"; got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
