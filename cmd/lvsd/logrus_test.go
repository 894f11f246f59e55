package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"testing"

	"github.com/sirupsen/logrus"
)

// moby/ipvs's logrus lines come out of lvsd's logger, as JSON when the
// daemon logs JSON, and nothing is written in logrus's own format.
func TestRouteLogrus(t *testing.T) {
	std := logrus.StandardLogger()
	defer func() {
		std.SetOutput(os.Stderr)
		std.ReplaceHooks(logrus.LevelHooks{})
	}()
	var buf bytes.Buffer
	routeLogrus(slog.New(slog.NewJSONHandler(&buf, nil)))
	logrus.Warnf("Running modprobe ip_vs failed with message: `%s`", "not found")
	logrus.Error("Could not get ipvs family information from the kernel.")
	logrus.Debug("below the logger's level")
	var got []map[string]any
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("not JSON lines: %v\n%s", err, buf.String())
		}
		got = append(got, m)
	}
	if len(got) != 2 {
		t.Fatalf("%d lines, want 2: %v", len(got), got)
	}
	for i, want := range []struct{ level, msg string }{
		{"WARN", "Running modprobe ip_vs failed with message: `not found`"},
		{"ERROR", "Could not get ipvs family information from the kernel."},
	} {
		if got[i]["level"] != want.level || got[i]["msg"] != want.msg || got[i]["component"] != "moby/ipvs" {
			t.Errorf("line %d = %v, want level %s msg %q component moby/ipvs", i, got[i], want.level, want.msg)
		}
	}
}
