package vm

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"6.1.0-56-amd64", "6.1.0-9-amd64", 1},
		{"6.1.0-9-amd64", "6.1.0-56-amd64", -1},
		{"6.10.0-1-amd64", "6.9.0-1-amd64", 1},
		{"6.1.0-56-amd64", "6.1.0-56-amd64", 0},
		{"6.1.0", "6.1.0-1", -1},
		{"6.01", "6.1", 0},
		{"6.1.0-56-amd64", "6.1.0-56-cloud-amd64", -1},
	}
	for _, tt := range tests {
		if got := compareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestModuleName(t *testing.T) {
	for in, want := range map[string]string{
		"kernel/net/9p/9pnet_virtio.ko":               "9pnet_virtio",
		"kernel/drivers/virtio/virtio-pci.ko.xz":      "virtio_pci",
		"kernel/fs/9p/9p.ko.zst":                      "9p",
		"kernel/net/netfilter/ipvs/ip_vs_rr.ko.gz":    "ip_vs_rr",
		"/lib/modules/6.1.0-56-amd64/kernel/x/y.ko":   "y",
		"kernel/drivers/virtio/virtio_pci_modern_dev": "virtio_pci_modern_dev",
	} {
		if got := moduleName(in); got != want {
			t.Errorf("moduleName(%q) = %q, want %q", in, got, want)
		}
	}
}

const sampleDep = `kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio.ko
kernel/fs/netfs/netfs.ko:
kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko
kernel/net/9p/9pnet.ko:
kernel/net/9p/9pnet_virtio.ko.xz: kernel/drivers/virtio/virtio.ko kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio_ring.ko
kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko
`

func TestLoadOrder(t *testing.T) {
	paths, deps, err := parseModulesDep(strings.NewReader(sampleDep))
	if err != nil {
		t.Fatal(err)
	}
	if paths["9pnet_virtio"] != "kernel/net/9p/9pnet_virtio.ko.xz" {
		t.Errorf("path of 9pnet_virtio = %q", paths["9pnet_virtio"])
	}
	got, err := loadOrder(bootModules, deps, paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"virtio_ring", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio", "virtio_pci",
		"9pnet", "9pnet_virtio", "netfs", "fscache", "9p"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loadOrder = %v\nwant %v", got, want)
	}

	// Built-in modules are not loaded, and need not be in modules.dep.
	builtin := map[string]bool{"virtio": true, "virtio_ring": true, "netfs": true}
	got, err = loadOrder([]string{"9pnet_virtio"}, deps, paths, builtin)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"9pnet", "9pnet_virtio"}; !reflect.DeepEqual(got, want) {
		t.Errorf("loadOrder with builtins = %v, want %v", got, want)
	}

	if _, err := loadOrder([]string{"nosuch"}, deps, paths, nil); err == nil {
		t.Error("loadOrder(nosuch): no error")
	}
	cyc := map[string][]string{"a": {"b"}, "b": {"a"}}
	if _, err := loadOrder([]string{"a"}, cyc, map[string]string{"a": "a.ko", "b": "b.ko"}, nil); err == nil {
		t.Error("loadOrder with a cycle: no error")
	}
}

func TestParseModulesDepError(t *testing.T) {
	if _, _, err := parseModulesDep(strings.NewReader("kernel/a.ko\n")); err == nil {
		t.Error("line without ':' accepted")
	}
}

func FuzzParseModulesDep(f *testing.F) {
	f.Add(sampleDep)
	f.Add("a.ko: b.ko\nb.ko: a.ko\n")
	f.Add(":\n")
	f.Fuzz(func(t *testing.T, s string) {
		paths, deps, err := parseModulesDep(strings.NewReader(s))
		if err != nil {
			return
		}
		for m := range deps {
			if _, ok := paths[m]; !ok {
				t.Fatalf("module %q has deps but no path", m)
			}
		}
		// Must terminate (cycles, missing modules) without panicking.
		for m := range paths {
			_, _ = loadOrder([]string{m}, deps, paths, nil)
		}
	})
}

func TestCpioRoundTrip(t *testing.T) {
	files := []cpioFile{
		{name: "bin", mode: modeDir | 0o755},
		{name: "dev/console", mode: modeChar | 0o600, major: 5, minor: 1},
		{name: "bin/sh", mode: modeLink | 0o777, data: []byte("busybox")},
		{name: "init", mode: modeReg | 0o755, data: []byte("#!/bin/sh\n")},
		{name: "a", mode: modeReg | 0o644, data: []byte("12")},
		{name: "empty", mode: modeReg | 0o644},
	}
	var buf bytes.Buffer
	if err := writeCpio(&buf, files); err != nil {
		t.Fatal(err)
	}
	if buf.Len()%4 != 0 {
		t.Errorf("archive length %d is not 4-aligned", buf.Len())
	}
	got, err := readCpio(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i].data == nil {
			got[i].data = files[i].data
		}
	}
	if !reflect.DeepEqual(got, files) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, files)
	}
	if err := writeCpio(&buf, []cpioFile{{name: "/abs"}}); err == nil {
		t.Error("absolute name accepted")
	}
}

func FuzzCpio(f *testing.F) {
	f.Add("init", []byte("#!/bin/sh\n"), "x/y", []byte{})
	f.Add("a", []byte{0, 1, 2}, "TRAILER!!", []byte("bc"))
	f.Fuzz(func(t *testing.T, n1 string, d1 []byte, n2 string, d2 []byte) {
		if n1 == "" || n2 == "" || strings.ContainsRune(n1+n2, 0) || n1 == "TRAILER!!!" || n2 == "TRAILER!!!" {
			return
		}
		in := []cpioFile{{name: n1, mode: modeReg | 0o644, data: d1}, {name: n2, mode: modeReg | 0o600, data: d2}}
		var buf bytes.Buffer
		if err := writeCpio(&buf, in); err != nil {
			return // absolute names are refused
		}
		out, err := readCpio(buf.Bytes())
		if err != nil {
			t.Fatalf("readCpio(writeCpio) failed: %v", err)
		}
		if len(out) != 2 || out[0].name != n1 || out[1].name != n2 ||
			!bytes.Equal(out[0].data, d1) || !bytes.Equal(out[1].data, d2) {
			t.Fatalf("round trip mismatch: %+v", out)
		}
		// Any truncation must be an error, never a panic.
		b := buf.Bytes()
		for i := 0; i < len(b); i += 1 + len(b)/16 {
			_, _ = readCpio(b[:i])
		}
	})
}
