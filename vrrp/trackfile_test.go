package vrrp

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

func TestFileContribution(t *testing.T) {
	for _, tc := range []struct {
		value   int64
		weight  int
		reverse bool
		delta   int
		fault   bool
	}{
		{0, 0, false, 0, false},
		{1, 0, false, 0, true}, // weight 0: non-zero is FAULT
		{-3, 0, false, 0, true},
		{0, 0, true, 0, true}, // reverse: zero is FAULT
		{7, 0, true, 0, false},
		{5, 1, false, 5, false},
		{5, 10, false, 50, false},
		{5, 10, true, -50, false},
		{-5, 10, false, -50, false},
		{-5, -10, false, 50, false},
		{100, 10, false, 253, false},  // capped at 253
		{-25, 10, false, -250, false}, // above -254: a priority change
		{-254, 1, false, 0, true},     // at -254: FAULT
		{-26, 10, false, 0, true},     // -260
		{254, 1, true, 0, true},
		{math.MaxInt32 + 1, 254, false, 253, false},
		{math.MinInt32, 254, false, 0, true},
		{math.MinInt32, -254, false, 253, false},
	} {
		d, f := FileContribution(tc.value, tc.weight, tc.reverse)
		if d != tc.delta || f != tc.fault {
			t.Errorf("FileContribution(%d, %d, reverse %v) = %d fault %v, want %d fault %v", tc.value, tc.weight, tc.reverse, d, f, tc.delta, tc.fault)
		}
	}
}

func TestEffectiveWithFiles(t *testing.T) {
	file := func(v int64, w int, rev bool) Tracked {
		o := Tracked{Kind: KindFile, Name: "f", Weight: w, Reverse: rev, Value: v}
		_, f := o.contribution()
		o.Up = !f
		return o
	}
	script := Tracked{Kind: KindScript, Name: "s", Weight: 20, Up: true}
	for _, tc := range []struct {
		name  string
		base  uint8
		objs  []Tracked
		prio  uint8
		fault bool
	}{
		{"value 0", 100, []Tracked{file(0, 10, false)}, 100, false},
		{"value x weight", 100, []Tracked{file(3, 10, false)}, 130, false},
		{"reverse", 100, []Tracked{file(3, 10, true)}, 70, false},
		{"with a script", 100, []Tracked{file(-2, 5, false), script}, 110, false},
		{"clamped to 254", 200, []Tracked{file(10, 10, false)}, 254, false},
		{"clamped to 1", 100, []Tracked{file(-25, 10, false)}, 1, false},
		{"-254 is FAULT", 100, []Tracked{file(-254, 1, false)}, 100, true},
		{"weight 0 non-zero is FAULT", 100, []Tracked{file(1, 0, false)}, 100, true},
		{"owner keeps 255", 255, []Tracked{file(-3, 10, false)}, 255, false},
		{"owner with weight 0 faults", 255, []Tracked{file(2, 0, false)}, 255, true},
	} {
		p, f := Effective(tc.base, tc.objs)
		if p != tc.prio || f != tc.fault {
			t.Errorf("%s: got %d fault %v, want %d fault %v", tc.name, p, f, tc.prio, tc.fault)
		}
	}
}

func TestParseTrackFile(t *testing.T) {
	for _, tc := range []struct {
		in string
		v  int64
		ok bool
	}{
		{"", 0, true},
		{"5", 5, true},
		{"5\n", 5, true},
		{"  \t-12 trailing", -12, true},
		{"+7", 7, true},
		{"0x1f", 31, true},
		{"0X1F\n", 31, true},
		{"010", 8, true}, // octal, as strtol base 0
		{"09", 0, true},  // octal stops at 9
		{"0x", 0, true},  // "0" then junk
		{"0xg", 0, true},
		{"abc", 0, true}, // no number reads as 0
		{"-", 0, true},
		{"12abc", 12, true},
		{"2147483648", 1 << 31, true},
		{"2147483649", 0, false},
		{"-2147483648", math.MinInt32, true},
		{"-2147483649", 0, false},
		{"99999999999999999999999", 0, false},
	} {
		v, ok := ParseTrackFile([]byte(tc.in))
		if v != tc.v || ok != tc.ok {
			t.Errorf("ParseTrackFile(%q) = %d, %v; want %d, %v", tc.in, v, ok, tc.v, tc.ok)
		}
	}
}

func FuzzParseTrackFile(f *testing.F) {
	for _, s := range []string{"", "5", "-0x10", "017", " +3\n", "2147483648", "x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, ok := ParseTrackFile(b)
		if ok && (v < math.MinInt32 || v > math.MaxInt32+1) {
			t.Fatalf("%q: %d accepted out of range", b, v)
		}
		// Plain decimal numbers read as strconv reads them.
		s := strings.Trim(string(b), " \t\n\v\f\r") // C's isspace
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && !strings.HasPrefix(strings.TrimLeft(s, "+-"), "0") {
			if n >= math.MinInt32 && n <= math.MaxInt32+1 && (!ok || v != n) {
				t.Fatalf("%q: got %d %v, want %d", b, v, ok, n)
			}
		}
	})
}

func TestInitTrackFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	read := func() string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if err := initTrackFile(p, 3, false); err != nil || read() != "3\n" {
		t.Fatalf("create: %v %q", err, read())
	}
	if err := initTrackFile(p, 4, false); err != nil || read() != "3\n" {
		t.Fatalf("existing kept: %v %q", err, read())
	}
	if err := initTrackFile(p, -4, true); err != nil || read() != "-4\n" {
		t.Fatalf("overwrite: %v %q", err, read())
	}
	if err := initTrackFile(dir, 1, true); err == nil {
		t.Fatal("overwriting a directory succeeded")
	}
	if err := initTrackFile(filepath.Join(dir, "no", "f"), 1, false); err == nil {
		t.Fatal("no error for a missing directory")
	}
}

// fakeFiles is the file system and watcher the coordinator sees in tests.
type fakeFiles struct {
	mu      sync.Mutex
	content map[string]string
	dirs    map[string]bool // directories that can be watched
	watched map[string]bool
	events  chan fileEvent
}

func newFakeFiles() *fakeFiles {
	return &fakeFiles{content: map[string]string{}, dirs: map[string]bool{}, watched: map[string]bool{}, events: make(chan fileEvent, 16)}
}

func (f *fakeFiles) read(path string) (int64, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.content[path]
	if !ok {
		return 0, true, fs.ErrNotExist
	}
	v, ok := ParseTrackFile([]byte(s))
	return v, ok, nil
}

func (f *fakeFiles) set(path, s string) {
	f.mu.Lock()
	f.content[path] = s
	f.mu.Unlock()
	f.events <- fileEvent{Path: path}
}

func (f *fakeFiles) Watch(dir string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.dirs[dir] {
		return fs.ErrNotExist
	}
	f.watched[dir] = true
	return nil
}
func (f *fakeFiles) Events() <-chan fileEvent { return f.events }
func (f *fakeFiles) Close() error             { return nil }

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func trackedFile(i *Instance, name string) Tracked {
	for _, o := range i.Status().Tracked {
		if o.Kind == KindFile && o.Name == name {
			return o
		}
	}
	return Tracked{}
}

// TestCoordinatorTrackFile: the value is read at Apply, then on each event
// of the file; a file whose directory appears later is watched by the
// retry; a lost directory watch reads the file again (gone: 0).
func TestCoordinatorTrackFile(t *testing.T) {
	defer func(d time.Duration) { fileRetry = d }(fileRetry)
	fileRetry = 20 * time.Millisecond
	ff := newFakeFiles()
	ff.dirs["/run/a"] = true
	ff.content["/run/a/prio"] = "2\n"
	c := NewCoordinator(nil)
	c.readTrack = ff.read
	c.newWatcher = func() (fileWatcher, error) { return ff, nil }
	cfg := testConfig()
	fa := conf.VRRPTrackFile{Name: "a", Path: "/run/a/prio", Weight: 1}
	fb := conf.VRRPTrackFile{Name: "b", Path: "/run/b/down", Weight: 1}
	cfg.DontTrackPrimary = true // the link is not read here
	cfg.TrackFiles = []conf.TrackFile{{File: fa, Weight: 10}, {File: fb, Weight: 0}}
	inst, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Apply(&conf.Config{VRRP: []conf.VRRPInstance{cfg}})
	c.Attach(inst)
	if got := trackedFile(inst, "a"); got.Value != 2 || !got.Up || got.Path != "/run/a/prio" {
		t.Fatalf("after Attach: %+v", got)
	}
	if p, fault, _ := inst.verdict(); p != 120 || fault {
		t.Fatalf("verdict %d %v, want 120", p, fault)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	ff.set("/run/a/prio", "-3")
	eventually(t, "value -3", func() bool { p, _, _ := inst.verdict(); return p == 70 })
	ff.set("/run/a/prio", "-30") // -300: FAULT
	eventually(t, "FAULT", func() bool { _, f, _ := inst.verdict(); return f && !trackedFile(inst, "a").Up })
	ff.set("/run/a/prio", "9999999999") // out of range: ignored
	ff.set("/run/a/prio", "0")
	eventually(t, "back", func() bool { p, f, _ := inst.verdict(); return p == 100 && !f })

	// b's directory did not exist: it is watched once it does.
	ff.mu.Lock()
	ff.dirs["/run/b"] = true
	ff.content["/run/b/down"] = "1"
	ff.mu.Unlock()
	eventually(t, "b read after its directory appeared", func() bool { _, f, _ := inst.verdict(); return f })
	ff.mu.Lock()
	watched := ff.watched["/run/b"]
	delete(ff.content, "/run/b/down")
	ff.mu.Unlock()
	if !watched {
		t.Fatal("/run/b not watched")
	}
	ff.events <- fileEvent{Path: "/run/b", Lost: true}
	eventually(t, "b gone counts as 0", func() bool { _, f, _ := inst.verdict(); return !f })
}

// TestCoordinatorInitFile: init_file creates the file at the first Apply,
// overwrite applies only then, not on a reload.
func TestCoordinatorInitFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "prio")
	c := NewCoordinator(nil)
	c.newWatcher = func() (fileWatcher, error) { return nil, errors.New("unused") }
	f := conf.VRRPTrackFile{Name: "a", Path: p, Weight: 1, InitFile: true, InitValue: 4, InitOverwrite: true}
	cfg := testConfig()
	cfg.TrackFiles = []conf.TrackFile{{File: f, Weight: 1}}
	if err := os.WriteFile(p, []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.Apply(&conf.Config{VRRP: []conf.VRRPInstance{cfg}})
	if v := c.files["a"].value; v != 4 {
		t.Fatalf("first Apply: value %d, want 4 (overwritten)", v)
	}
	os.WriteFile(p, []byte("1\n"), 0o644)
	f.InitValue = 5 // changed: a new file for the coordinator, on a reload
	cfg.TrackFiles[0].File = f
	c.Apply(&conf.Config{VRRP: []conf.VRRPInstance{cfg}})
	if v := c.files["a"].value; v != 1 {
		t.Fatalf("reload: value %d, want 1 (kept)", v)
	}
}
