package vm

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// xenElfnotePhys32Entry is XEN_ELFNOTE_PHYS32_ENTRY, the note by which a
// vmlinux announces its PVH entry point; QEMU boots such an ELF directly.
const xenElfnotePhys32Entry = 18

// bootKernel returns the image QEMU should boot: the ELF vmlinux inside
// vmlinuz when it has a PVH entry, else vmlinuz itself. Under TCG the
// bzImage's own decompressor (and the firmware's real-mode boot path) cost
// about 3 s per boot, a third of a short run; the host decompresses once
// and caches the result. Any failure falls back to vmlinuz.
func bootKernel(vmlinuz, kver, cacheDir string) string {
	img, err := os.ReadFile(vmlinuz)
	if err != nil {
		return vmlinuz
	}
	sum := sha256.Sum256(img)
	out := filepath.Join(cacheDir, fmt.Sprintf("vmlinux-%s-%s", kver, hex.EncodeToString(sum[:8])))
	if cacheHit(out) {
		return out
	}
	elfImg := extractVmlinux(img)
	if elfImg == nil {
		return vmlinuz
	}
	if err := writeAtomic(out, elfImg); err != nil {
		return vmlinuz
	}
	return out
}

// extractVmlinux finds the compressed payload of a bzImage by its magic
// and decompresses it, returning the first result that is a PVH-bootable
// ELF, or nil.
func extractVmlinux(img []byte) []byte {
	type format struct {
		magic  []byte
		decomp func([]byte) []byte
	}
	formats := []format{
		{[]byte("\xfd7zXZ\x00"), func(b []byte) []byte { return runFilter(b, "xz", "-dc", "--single-stream") }},
		{[]byte("\x28\xb5\x2f\xfd"), func(b []byte) []byte { return runFilter(b, "zstd", "-dcq") }},
		{[]byte("\x1f\x8b\x08"), func(b []byte) []byte {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil
			}
			zr.Multistream(false)
			out, _ := io.ReadAll(zr) // trailing bytes after the stream are expected
			return out
		}},
	}
	for _, f := range formats {
		for off, n := 0, 0; n < 8; n++ {
			i := bytes.Index(img[off:], f.magic)
			if i < 0 {
				break
			}
			if out := f.decomp(img[off+i:]); hasPVHEntry(out) {
				return out
			}
			off += i + 1
		}
	}
	return nil
}

// runFilter pipes in through a decompressor. Trailing data after the
// stream may make it exit non-zero; the output is judged by hasPVHEntry.
func runFilter(in []byte, name string, args ...string) []byte {
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(in)
	var out bytes.Buffer
	cmd.Stdout = &out
	_ = cmd.Run()
	return out.Bytes()
}

// hasPVHEntry reports whether b is an x86-64 ELF with a Xen PVH entry note.
func hasPVHEntry(b []byte) bool {
	if len(b) < 64 {
		return false
	}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return false
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		return false
	}
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		notes, err := io.ReadAll(p.Open())
		if err != nil {
			continue
		}
		if hasXenNote(notes, f.ByteOrder, xenElfnotePhys32Entry) {
			return true
		}
	}
	return false
}

// hasXenNote walks ELF notes: namesz, descsz, type, then name and desc,
// each padded to 4 bytes.
func hasXenNote(b []byte, bo binary.ByteOrder, typ uint32) bool {
	align := func(n uint64) uint64 { return (n + 3) &^ 3 }
	for len(b) >= 12 {
		namesz, descsz, t := uint64(bo.Uint32(b)), uint64(bo.Uint32(b[4:])), bo.Uint32(b[8:])
		b = b[12:]
		if align(namesz) > uint64(len(b)) {
			return false
		}
		name := b[:namesz]
		b = b[align(namesz):]
		if align(descsz) > uint64(len(b)) {
			return false
		}
		b = b[align(descsz):]
		if t == typ && string(bytes.TrimRight(name, "\x00")) == "Xen" {
			return true
		}
	}
	return false
}

// writeAtomic writes data to path through a temporary file and a rename,
// so concurrent runs never see a partial file.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	pruneCache(path)
	return nil
}

// pruneCache removes older builds of the same kind (same name up to the
// first '-') left by earlier kernel or runner versions. Only files unused
// for a day go, so a concurrent run of another version keeps its own.
func pruneCache(keep string) {
	kind, _, ok := strings.Cut(filepath.Base(keep), "-")
	if !ok {
		return
	}
	old, _ := filepath.Glob(filepath.Join(filepath.Dir(keep), kind+"-*"))
	for _, o := range old {
		if fi, err := os.Stat(o); err == nil && o != keep && time.Since(fi.ModTime()) > 24*time.Hour {
			os.Remove(o)
		}
	}
}

// cacheHit reports whether file exists, marking it used for pruneCache.
func cacheHit(file string) bool {
	now := time.Now()
	return os.Chtimes(file, now, now) == nil
}
