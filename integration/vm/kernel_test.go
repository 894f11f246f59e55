package vm

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"testing"
)

// note builds one ELF note record.
func note(name string, typ uint32, desc []byte) []byte {
	var b bytes.Buffer
	pad := func() {
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
	}
	binary.Write(&b, binary.LittleEndian, [3]uint32{uint32(len(name) + 1), uint32(len(desc)), typ})
	b.WriteString(name)
	b.WriteByte(0)
	pad()
	b.Write(desc)
	pad()
	return b.Bytes()
}

func TestHasXenNote(t *testing.T) {
	le := binary.LittleEndian
	gnu := note("GNU", 3, []byte{1, 2, 3, 4, 5})
	xenOther := note("Xen", 6, []byte("linux\x00"))
	pvh := note("Xen", xenElfnotePhys32Entry, []byte{0, 0, 0, 1})
	tests := []struct {
		name  string
		notes []byte
		want  bool
	}{
		{"pvh after others", append(append(append([]byte{}, gnu...), xenOther...), pvh...), true},
		{"no pvh", append(append([]byte{}, gnu...), xenOther...), false},
		{"pvh type under another name", note("GNU", xenElfnotePhys32Entry, nil), false},
		{"truncated", pvh[:len(pvh)-2], false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		if got := hasXenNote(tt.notes, le, xenElfnotePhys32Entry); got != tt.want {
			t.Errorf("%s: hasXenNote = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func FuzzHasXenNote(f *testing.F) {
	f.Add(note("Xen", xenElfnotePhys32Entry, []byte{1, 2, 3, 4}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		hasXenNote(b, binary.LittleEndian, xenElfnotePhys32Entry)
		hasPVHEntry(b)
	})
}

func TestExtractVmlinuxRejectsNonELF(t *testing.T) {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(bytes.Repeat([]byte("not an elf "), 100))
	zw.Close()
	img := append([]byte("bzImage header"), z.Bytes()...)
	if got := extractVmlinux(img); got != nil {
		t.Errorf("extractVmlinux of a non-ELF payload = %d bytes, want nil", len(got))
	}
}
