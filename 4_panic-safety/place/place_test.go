package place

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"concurrencylab/internal/labtest"
)

// TestMain exits without the race detector's one-second pause (labtest.Exit).
func TestMain(m *testing.M) { labtest.Exit(m.Run()) }

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"hits":        "hits",
		"hits@home":   "hits@home",
		"hits@Home":   "hits@home",
		"a@b@Cafe":    "a@b@cafe",
		"alice@HOME":  "alice@hOME", // the first letter only
		"@Everywhere": "@everywhere",
	} {
		assert.Equal(t, want, Fold(in), in)
	}
}

// The latent bug the panic-safety servers share.
func TestFoldPanicsOnAnEmptyPlace(t *testing.T) {
	assert.PanicsWithError(t, "runtime error: slice bounds out of range [:1] with length 0", func() { Fold("hits@") })
}
